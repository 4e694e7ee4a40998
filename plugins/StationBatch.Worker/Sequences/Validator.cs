using System.Globalization;
using System.Text.RegularExpressions;

namespace PluginHost.Station.Worker.Sequences;

/// <summary>
/// A measurement's validator, by name as in OpenHTF's registry: <c>in_range</c> (with an optional
/// marginal band inside the limits), <c>equals</c>, <c>regex</c>, <c>within_percent</c>.
/// </summary>
internal abstract record Validator
{
    public abstract string Name { get; }

    /// <summary>The limits as a result user reads them (stored with the measurement).</summary>
    public abstract string Limits { get; }

    public abstract Verdict Check(MeasuredValue value);

    /// <param name="Marginal">Passed, but outside the marginal band: close to a limit.</param>
    internal sealed record Verdict(bool Passed, bool Marginal = false);
}

/// <summary>A measured value: a number when the reply parsed as one, and always the text.</summary>
internal sealed record MeasuredValue(string Text, double? Number)
{
    public static MeasuredValue Parse(string text)
    {
        var trimmed = text.Trim();
        return new MeasuredValue(trimmed, double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null);
    }
}

internal sealed record InRange(double? Min, double? Max, double? MarginalMin, double? MarginalMax) : Validator
{
    public override string Name => "in_range";

    public override string Limits => $"[{Format(Min)}, {Format(Max)}]" + (MarginalMin is null && MarginalMax is null ? "" : $" marginal outside [{Format(MarginalMin)}, {Format(MarginalMax)}]");

    public override Verdict Check(MeasuredValue value)
    {
        if (value.Number is not { } n || double.IsNaN(n))
        {
            return new Verdict(false);
        }

        var passed = (Min is null || n >= Min) && (Max is null || n <= Max);
        var marginal = passed && ((MarginalMin is { } lo && n < lo) || (MarginalMax is { } hi && n > hi));
        return new Verdict(passed, marginal);
    }

    private static string Format(double? v) => v?.ToString("G", CultureInfo.InvariantCulture) ?? "-";
}

internal sealed record EqualsValue(string Expected) : Validator
{
    public override string Name => "equals";

    public override string Limits => $"== {Expected}";

    public override Verdict Check(MeasuredValue value) => new(
        value.Number is { } n && double.TryParse(Expected, NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? n == e : value.Text == Expected);
}

internal sealed record MatchesRegex(string Pattern) : Validator
{
    private readonly Regex _regex = new(Pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    public override string Name => "regex";

    public override string Limits => $"~ /{Pattern}/";

    public override Verdict Check(MeasuredValue value)
    {
        try
        {
            return new Verdict(_regex.IsMatch(value.Text));
        }
        catch (RegexMatchTimeoutException)
        {
            return new Verdict(false);
        }
    }
}

internal sealed record WithinPercent(double Nominal, double Percent) : Validator
{
    public override string Name => "within_percent";

    public override string Limits => $"{Nominal.ToString("G", CultureInfo.InvariantCulture)} ± {Percent.ToString("G", CultureInfo.InvariantCulture)}%";

    public override Verdict Check(MeasuredValue value) =>
        new(value.Number is { } n && Math.Abs(n - Nominal) <= Math.Abs(Nominal) * Percent / 100);
}
