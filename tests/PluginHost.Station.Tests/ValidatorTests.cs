using PluginHost.Station.Worker.Sequences;
using Xunit;

namespace PluginHost.Station.Tests;

public sealed class ValidatorTests
{
    [Theory]
    [InlineData("3.30", true, false)]
    [InlineData("3.41", true, true)]    // inside the limits, outside the marginal band
    [InlineData("3.135", true, true)]   // a limit itself passes
    [InlineData("3.47", false, false)]
    [InlineData("+3.3E+00", true, false)]
    [InlineData("NaN", false, false)]
    [InlineData("OVLD", false, false)]
    public void In_range_with_a_marginal_band(string reading, bool passed, bool marginal)
    {
        var verdict = new InRange(3.135, 3.465, 3.2, 3.4).Check(MeasuredValue.Parse(reading));

        Assert.Equal((passed, marginal), (verdict.Passed, verdict.Marginal));
    }

    [Fact]
    public void One_sided_ranges_equals_regex_and_within_percent()
    {
        Assert.True(new InRange(null, 5, null, null).Check(MeasuredValue.Parse("-100")).Passed);
        Assert.True(new EqualsValue("1").Check(MeasuredValue.Parse("+1.000E+00")).Passed);
        Assert.True(new EqualsValue("ON").Check(MeasuredValue.Parse(" ON ")).Passed);
        Assert.False(new EqualsValue("ON").Check(MeasuredValue.Parse("OFF")).Passed);
        Assert.True(new MatchesRegex("^\\+?0,").Check(MeasuredValue.Parse("+0,\"No error\"")).Passed);
        Assert.False(new MatchesRegex("^\\+?0,").Check(MeasuredValue.Parse("-113,\"Undefined header\"")).Passed);
        Assert.True(new WithinPercent(12, 2).Check(MeasuredValue.Parse("12.239")).Passed);
        Assert.False(new WithinPercent(12, 2).Check(MeasuredValue.Parse("12.25")).Passed);
    }
}
