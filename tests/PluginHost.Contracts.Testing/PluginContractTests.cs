using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Plugins;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// The promises every plugin keeps, checked the same way for all of them. A plugin's test project
/// derives one class from this suite and says where the built plugin is and what a valid and a
/// malformed spec of its kind look like. The plugin is loaded the way the host loads it: from a
/// shadow copy, in its own collectible context.
/// </summary>
public abstract class PluginContractTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("plugin-contract");
    private PluginCatalog _catalog = null!;
    private string _folder = "";

    /// <summary>The plugin's build output folder (with plugin.yaml).</summary>
    protected abstract string PluginFolder { get; }

    /// <summary>The unit kind the specs below are for.</summary>
    protected abstract string Kind { get; }

    /// <summary>The YAML of a <c>spec:</c> section the plugin accepts.</summary>
    protected abstract string ValidSpec { get; }

    /// <summary>The YAML of a <c>spec:</c> section the plugin must reject.</summary>
    protected abstract string MalformedSpec { get; }

    public async Task InitializeAsync()
    {
        _folder = RepositoryLayout.CopyPlugin(PluginFolder, _temp.Combine("plugins"));
        _catalog = new PluginCatalog(_temp.Combine("shadow"), new EventBus(), TimeProvider.System, NullLogger<PluginCatalog>.Instance);
        await _catalog.LoadDirectoriesAsync([_temp.Combine("plugins")], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _catalog.DisposeAsync();
        _temp.Dispose();
    }

    private IUnitDriver Driver => _catalog.FindDriver(Kind)
        ?? throw new Xunit.Sdk.XunitException($"kind {Kind} is not registered; plugin status: {string.Join("; ", _catalog.List().Select(s => $"{s.Name} {s.State} {s.Error}"))}");

    [Fact]
    public void Loads_in_its_own_collectible_context()
    {
        var status = Assert.Single(_catalog.List());
        Assert.True(status.State == PluginLoadState.Loaded, $"{status.Error} {status.Remedy}");
        var context = AssemblyLoadContext.GetLoadContext(Driver.GetType().Assembly);
        Assert.NotNull(context);
        Assert.NotSame(AssemblyLoadContext.Default, context);
        Assert.True(context.IsCollectible);
    }

    [Fact]
    public void Shares_only_the_contracts_with_the_host()
    {
        Assert.False(File.Exists(Path.Combine(PluginFolder, "PluginHost.Contracts.dll")),
            "the contracts must not be copied beside the plugin: reference them with Private=false and ExcludeAssets=runtime");
        var contractsSeenByPlugin = Driver.GetType().GetInterfaces().Single(i => i.FullName == typeof(IUnitDriver).FullName).Assembly;
        Assert.Same(typeof(IPlugin).Assembly, contractsSeenByPlugin);
    }

    [Fact]
    public void Registers_the_kinds_its_plugin_yaml_declares()
    {
        var status = Assert.Single(_catalog.List());
        Assert.NotEmpty(status.Kinds);
        Assert.Contains(Kind, status.Kinds);
    }

    [Fact]
    public void Accepts_a_valid_spec()
    {
        var problems = Driver.Validate(SpecYaml.Parse(ValidSpec));
        Assert.True(problems.Count == 0, "valid spec rejected: " + string.Join("; ", problems));
    }

    [Fact]
    public void Rejects_a_malformed_spec_with_useful_problems()
    {
        var problems = Driver.Validate(SpecYaml.Parse(MalformedSpec));
        Assert.NotEmpty(problems);
        foreach (var problem in problems)
        {
            Assert.StartsWith("spec", problem.Path, StringComparison.Ordinal);
            Assert.True(problem.Location.Line > 0, $"problem without a line: {problem}");
            Assert.False(string.IsNullOrWhiteSpace(problem.Found), $"problem without what was found: {problem}");
            Assert.False(string.IsNullOrWhiteSpace(problem.Expected), $"problem without what is expected: {problem}");
        }
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("unknownKey: 1")]
    [InlineData("a: [1, [2, {b: ~}]]")]
    [InlineData("x: ''\ny: ~\nz: {}")]
    public void Validation_never_throws_whatever_the_spec(string spec)
    {
        var problems = Driver.Validate(SpecYaml.Parse(spec));

        // Whatever it says about these, it says it as a problem a person can act on.
        Assert.All(problems, p =>
        {
            Assert.StartsWith("spec", p.Path, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(p.Found) || string.IsNullOrWhiteSpace(p.Expected), $"problem without what was found or expected: {p}");
        });
    }

    public static TheoryData<FailureKind> EveryFailureKind() => [.. Enum.GetValues<FailureKind>()];

    [Theory]
    [MemberData(nameof(EveryFailureKind))]
    public void Classifies_every_kind_of_failure_with_a_code_and_a_remedy(FailureKind kind)
    {
        var output = new[] { new OutputLine(OutputStream.Stderr, "Traceback (most recent call last):", DateTimeOffset.UnixEpoch), new OutputLine(OutputStream.Stderr, "error: something failed", DateTimeOffset.UnixEpoch) };
        foreach (var failure in new[]
        {
            new UnitFailure(kind, "what the host saw"),
            new UnitFailure(kind, "what the host saw", ExitCode: 1, RecentOutput: output),
            new UnitFailure(kind, "what the host saw", Signal: 9),
            new UnitFailure(kind, "what the host saw", ExitCode: 127, RecentOutput: []),
        })
        {
            var error = Driver.Classify(failure);
            Assert.Matches("^[A-Z][A-Z0-9_]+$", error.Code);
            Assert.False(string.IsNullOrWhiteSpace(error.Message), $"{failure}: {error.Code} without a message");
            Assert.False(string.IsNullOrWhiteSpace(error.Remedy), $"{failure}: {error.Code} without a remedy");
        }
    }

    [Fact]
    public async Task Unloads_cleanly_after_a_reload()
    {
        File.AppendAllText(Path.Combine(_folder, PluginDescriptor.FileName), "\n# touched by the contract test\n");
        var outcome = await _catalog.ReloadAsync(Assert.Single(_catalog.List()).Name, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.True(outcome.OldVersionCollected,
            "the old version was still alive after the reload: something keeps a reference to its types (static cache, event handler, timer, thread)");
    }

    protected static SpecMapping Spec(string yaml) => SpecYaml.Parse(yaml);
}
