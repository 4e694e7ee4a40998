using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Equipment;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using Xunit;

namespace PluginHost.Contracts.Testing;

/// <summary>
/// The promises every equipment driver keeps (docs/drivers.md), checked against a real peer the
/// driver's test project starts (pymodbus, a fake SCPI instrument, or none for a simulated one):
/// it connects, identifies itself, answers a query and takes a write; disconnect is idempotent and
/// a command after it is <c>EQUIPMENT_NOT_CONNECTED</c>; it connects again after a disconnect (the
/// worker reconnects a dropped instrument that way); a refused connection and a bad command are
/// <see cref="EquipmentException"/>s with a code and a remedy, never another exception; and the
/// plugin is loaded in a collectible context of its own, sharing only the contracts.
/// </summary>
public abstract class EquipmentDriverContractTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("driver-contract");
    private PluginCatalog _catalog = null!;

    /// <summary>The driver plugin's build output folder (with plugin.yaml).</summary>
    protected abstract string PluginFolder { get; }

    /// <summary>The driver's registered name (<c>plugin.yaml</c>'s <c>drivers:</c>).</summary>
    protected abstract string DriverName { get; }

    /// <summary>Where the peer started by <see cref="StartPeerAsync"/> listens.</summary>
    protected abstract EquipmentEndpoint Endpoint { get; }

    /// <summary>An endpoint nothing answers at (by default: the peer's address at a port nobody listens on).</summary>
    protected virtual EquipmentEndpoint RefusingEndpoint => Endpoint with { Port = ClosedPort() };

    /// <summary>A query the peer answers.</summary>
    protected abstract string Query { get; }

    /// <summary>A write the peer takes.</summary>
    protected abstract string Write { get; }

    /// <summary>A command the driver or the peer refuses (malformed, unknown, out of range).</summary>
    protected abstract string BadCommand { get; }

    /// <summary>Whether <see cref="BadCommand"/> is sent as a query (it expects an answer) rather than a write.</summary>
    protected virtual bool BadCommandIsQuery => false;

    /// <summary>Starts the instrument the driver talks to (a process, a socket); none by default.</summary>
    protected virtual Task StartPeerAsync() => Task.CompletedTask;

    /// <summary>Stops what <see cref="StartPeerAsync"/> started.</summary>
    protected virtual Task StopPeerAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        RepositoryLayout.CopyPlugin(PluginFolder, _temp.Combine("plugins"));
        _catalog = new PluginCatalog(_temp.Combine("shadow"), new EventBus(), TimeProvider.System, NullLogger<PluginCatalog>.Instance);
        await _catalog.LoadDirectoriesAsync([_temp.Combine("plugins")], CancellationToken.None);
        await StartPeerAsync();
    }

    public async Task DisposeAsync()
    {
        await StopPeerAsync();
        await _catalog.DisposeAsync();
        _temp.Dispose();
    }

    private IEquipmentDriver NewDriver()
    {
        var status = Assert.Single(_catalog.List());
        Assert.True(status.State == PluginLoadState.Loaded, $"{status.Error} {status.Remedy}");
        var factory = _catalog.Find(status.Name)?.Equipment.GetValueOrDefault(DriverName)
            ?? throw new Xunit.Sdk.XunitException($"plugin {status.Name} registers no driver {DriverName}");
        return factory();
    }

    [Fact]
    public void Is_loaded_in_its_own_collectible_context_sharing_only_the_contracts()
    {
        var driver = NewDriver();
        var context = AssemblyLoadContext.GetLoadContext(driver.GetType().Assembly);
        Assert.NotNull(context);
        Assert.NotSame(AssemblyLoadContext.Default, context);
        Assert.True(context.IsCollectible);
        Assert.False(File.Exists(Path.Combine(PluginFolder, "PluginHost.Contracts.dll")),
            "the contracts must not be copied beside the plugin: reference them with Private=false and ExcludeAssets=runtime");
        Assert.Same(typeof(IEquipmentDriver).Assembly, driver.GetType().GetInterfaces().Single(i => i.FullName == typeof(IEquipmentDriver).FullName).Assembly);
    }

    [Fact]
    public async Task Connects_identifies_answers_a_query_and_takes_a_write()
    {
        await using var driver = NewDriver();
        await driver.ConnectAsync(Endpoint, CancellationToken.None);

        var identity = await driver.IdentifyAsync(CancellationToken.None);
        var reply = await driver.QueryAsync(Query, CancellationToken.None);
        await driver.WriteAsync(Write, CancellationToken.None);

        Assert.False(string.IsNullOrWhiteSpace(identity.Model), $"an identity without a model: {identity}");
        Assert.False(string.IsNullOrEmpty(reply.Text), $"{Query} answered nothing");
        Assert.Empty(await driver.ReadErrorsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Disconnect_is_idempotent_a_command_after_it_is_not_connected_and_it_connects_again()
    {
        await using var driver = NewDriver();
        await driver.ConnectAsync(Endpoint, CancellationToken.None);
        await driver.DisconnectAsync(CancellationToken.None);
        await driver.DisconnectAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.QueryAsync(Query, CancellationToken.None));
        Assert.Equal(EquipmentCodes.NotConnected, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Remedy));

        await driver.ConnectAsync(Endpoint, CancellationToken.None);
        Assert.False(string.IsNullOrEmpty((await driver.QueryAsync(Query, CancellationToken.None)).Text));
    }

    [Fact]
    public async Task A_refused_connection_is_a_coded_equipment_error_with_a_remedy()
    {
        await using var driver = NewDriver();

        var error = await Assert.ThrowsAsync<EquipmentException>(async () => await driver.ConnectAsync(RefusingEndpoint, CancellationToken.None));

        Assert.Contains(error.Code, new[] { EquipmentCodes.Refused, EquipmentCodes.Timeout });
        Assert.False(string.IsNullOrWhiteSpace(error.Remedy));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public async Task A_bad_command_is_a_coded_equipment_error_and_the_connection_goes_on()
    {
        await using var driver = NewDriver();
        await driver.ConnectAsync(Endpoint, CancellationToken.None);

        var error = await Assert.ThrowsAsync<EquipmentException>(async () =>
        {
            if (BadCommandIsQuery)
            {
                await driver.QueryAsync(BadCommand, CancellationToken.None);
            }
            else
            {
                await driver.WriteAsync(BadCommand, CancellationToken.None);
            }
        });

        Assert.Matches("^[A-Z][A-Z0-9_]+( -?[0-9A-Za-z]+)?$", error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Remedy), $"{error.Code} without a remedy");
        Assert.False(string.IsNullOrEmpty((await driver.QueryAsync(Query, CancellationToken.None)).Text), "the command after a bad one was not answered");
    }

    [Fact]
    public async Task Dispose_before_unload_lets_the_plugin_be_collected()
    {
        var driver = NewDriver();
        await driver.ConnectAsync(Endpoint, CancellationToken.None);
        await driver.DisposeAsync();
        await driver.DisposeAsync();
        driver = null!;

        File.AppendAllText(Path.Combine(_temp.Combine("plugins", Path.GetFileName(PluginFolder)), PluginDescriptor.FileName), "\n# touched by the contract test\n");
        var outcome = await _catalog.ReloadAsync(Assert.Single(_catalog.List()).Name, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.True(outcome.OldVersionCollected,
            "the old version was still alive after the reload: a disposed driver keeps a reference (a socket's callback, a timer, a static)");
    }

    /// <summary>A loopback port nobody listens on: bound, then closed, so the kernel refuses it.</summary>
    protected static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
