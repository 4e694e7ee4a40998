using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;
using PluginHost.Core.Plugins;
using PluginHost.Core.Units;
using PluginHost.Contracts.Testing;

namespace PluginHost.Core.Tests.TestDoubles;

/// <summary>
/// A stand-in for the supervision engine's unit: it owns a real child process and a driver, and
/// takes part in a hot reload through <see cref="ISupervisedUnit"/> exactly as the engine will.
/// </summary>
internal sealed class ProcessUnit : ISupervisedUnit, IDisposable
{
    private readonly Process _process;

    public ProcessUnit(string name, string kind, IUnitDriver driver, string specYaml = "message: hi")
    {
        Name = name;
        Kind = kind;
        Driver = driver;
        var manifest = new PluginHost.Core.Manifests.UnitManifest
        {
            Name = name,
            Kind = kind,
            File = "unit.yaml",
            Spec = SpecYaml.Parse(specYaml),
            Fingerprint = "",
        };
        Context = new UnitContext(manifest, Path.GetTempPath(), TimeProvider.System, NullLogger.Instance,
            new EventPublisher(new EventBus(), TimeProvider.System, name, null), new MemoryStateBag());
        _process = Start();
        Process = new RunningProcess(_process.Id, _process.Id, 0, DateTimeOffset.UtcNow, LaunchIo.Pipes);
    }

    public string Name { get; }

    public string Kind { get; }

    public IUnitContext Context { get; }

    public RunningProcess? Process { get; private set; }

    /// <summary>The driver in use; replaced by the reload.</summary>
    public IUnitDriver? Driver { get; private set; }

    public int Restarts { get; private set; }

    public bool IsAlive => !_process.HasExited;

    public void UseDriver(IUnitDriver driver) => Driver = driver;

    public ValueTask RestartWithAsync(IUnitDriver driver, string reason, CancellationToken cancellationToken)
    {
        Driver = driver;
        Restarts++;
        return ValueTask.CompletedTask;
    }

    private static Process Start() =>
        System.Diagnostics.Process.Start(new ProcessStartInfo("/bin/sleep", ["300"]) { UseShellExecute = false })
        ?? throw new InvalidOperationException("could not start /bin/sleep");

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

internal sealed class ProcessUnits(params ProcessUnit[] units) : ISupervisedUnits
{
    public IReadOnlyList<ISupervisedUnit> UnitsOfKinds(IReadOnlySet<string> kinds) => units.Where(u => kinds.Contains(u.Kind)).ToArray();
}
