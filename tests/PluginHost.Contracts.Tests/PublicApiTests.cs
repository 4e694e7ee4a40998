using Xunit;

namespace PluginHost.Contracts.Tests;

/// <summary>
/// Pins the public API of the contracts: every plugin compiles against it, so a change must be
/// deliberate. When this fails, read PublicApi.received.txt; if the change is intended (and the
/// contracts version bumped as docs/contracts.md says), copy it over PublicApi.approved.txt.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_api_of_the_contracts_is_the_approved_one()
    {
        var actual = PublicApi.Describe(typeof(ContractsVersion).Assembly);
        var approvedPath = Path.Combine(SourceFolder(), "PublicApi.approved.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";

        if (actual != approved)
        {
            var received = Path.Combine(SourceFolder(), "PublicApi.received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The contracts' public API changed. Compare {received} with {approvedPath}; if intended, bump ContractsVersion and approve it by copying.\n{FirstDifference(approved, actual)}");
        }
    }

    [Fact]
    public void The_contracts_version_matches_the_assembly_version()
    {
        var version = typeof(ContractsVersion).Assembly.GetName().Version!;

        Assert.Equal((ContractsVersion.Major, ContractsVersion.Minor), (version.Major, version.Minor));
    }

    [Theory]
    [InlineData(1, 0, true)]
    [InlineData(2, 0, false)]
    [InlineData(0, 9, false)]
    [InlineData(1, 1, true)]
    [InlineData(1, 2, true)]
    [InlineData(1, 3, true)]
    [InlineData(1, 4, true)]
    [InlineData(1, 5, true)]
    [InlineData(1, 6, true)]
    [InlineData(1, 7, true)]
    [InlineData(1, 8, false)]
    public void A_plugin_is_compatible_when_the_major_matches_and_its_minor_is_not_newer(int major, int minor, bool compatible)
    {
        Assert.Equal(compatible, ContractsVersion.IsCompatible(new Version(major, minor)));
    }

    private static string SourceFolder([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string FirstDifference(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "<end>";
            var right = i < b.Length ? b[i] : "<end>";
            if (left != right)
            {
                return $"first difference at line {i + 1}:\n  approved: {left}\n  actual:   {right}";
            }
        }

        return "";
    }
}
