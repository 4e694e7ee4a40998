using Microsoft.Extensions.Logging;
using PluginHost.Core.Events;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Hosting;

/// <summary>
/// Everything a host needs before it supervises anything: host.yaml (with command-line overrides),
/// the loaded plugins, and a valid unit set. A first load that finds problems is fatal: the host
/// refuses to start on a configuration it cannot fully understand.
/// </summary>
internal sealed class HostSetup : IAsyncDisposable
{
    private readonly bool _ownsShadowRoot;
    private readonly DataFolderLock? _lock;

    private HostSetup(HostManifest host, string manifestsDirectory, EventBus events, StorageAlarm alarm, EventJournal? eventJournal, PluginCatalog plugins, UnitSet units, string shadowRoot, bool ownsShadowRoot, DataFolderLock? folderLock)
    {
        _lock = folderLock;
        Alarm = alarm;
        Host = host;
        ManifestsDirectory = manifestsDirectory;
        Events = events;
        EventJournal = eventJournal;
        Plugins = plugins;
        Units = units;
        ShadowRoot = shadowRoot;
        _ownsShadowRoot = ownsShadowRoot;
    }

    public HostManifest Host { get; }

    public string ManifestsDirectory { get; }

    public EventBus Events { get; }

    /// <summary>Says when the host cannot write its data folder (a full disk) and when it can again.</summary>
    public StorageAlarm Alarm { get; }

    /// <summary>The events kept on disk for resumption (null for one-shot commands).</summary>
    public EventJournal? EventJournal { get; }

    public PluginCatalog Plugins { get; }

    public UnitSet Units { get; }

    public string ShadowRoot { get; }

    /// <param name="temporary">True for one-shot commands (validate, plugins): plugins are shadow-copied to a temp folder removed afterwards.</param>
    public static async Task<(HostSetup? Setup, IReadOnlyList<ManifestProblem> Problems)> LoadAsync(
        HostOverrides options, TimeProvider time, ILoggerFactory loggers, bool temporary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var manifests = Path.GetFullPath(options.ManifestsDirectory);
        if (!Directory.Exists(manifests))
        {
            return (null, [ManifestProblem.InFile(ManifestPaths.Display(manifests), "no such folder", "the manifests folder (host.yaml and one YAML file per unit); pass it with --manifests")]);
        }

        var (host, hostProblems) = HostManifestReader.ReadDirectory(manifests);
        if (host is null)
        {
            return (null, hostProblems);
        }

        host = options.Apply(host);

        // Before the first write to the data folder: a second host must not touch the first's files.
        var folderLock = temporary ? null : DataFolderLock.Acquire(host.DataDirectory, host.ApiAddress);
        try
        {
            if (!temporary)
            {
                // Folders an earlier host made with the umask's mode: the data folder is the host's alone.
                PrivateFiles.Restrict(Path.Combine(host.DataDirectory, "logs"));
                PrivateFiles.Restrict(Path.Combine(host.DataDirectory, "units"));
            }

            var shadowRoot = temporary
                ? Path.Combine(Path.GetTempPath(), "pluginhost-shadow-" + Guid.NewGuid().ToString("N")[..12])
                : Path.Combine(host.DataDirectory, "plugins-shadow");
            ResetFolder(shadowRoot);

            var events = new EventBus();
            var alarm = new StorageAlarm(events, time, loggers.CreateLogger<StorageAlarm>());

            // Before anything publishes: the journal continues the previous run's event ids.
            var eventsPath = Path.Combine(host.DataDirectory, "events.db");
            var eventJournal = temporary ? null : new EventJournal(eventsPath, events, time, alarm.Component("the event journal", eventsPath));
            var plugins = new PluginCatalog(shadowRoot, events, time, loggers.CreateLogger<PluginCatalog>());
            await plugins.LoadDirectoriesAsync(host.PluginDirectories, cancellationToken).ConfigureAwait(false);

            var units = UnitSetLoader.Load(manifests, plugins);
            var setup = new HostSetup(host, manifests, events, alarm, eventJournal, plugins, units.Units ?? UnitSet.Empty, shadowRoot, temporary, folderLock);
            folderLock = null; // the setup holds it now
            if (!units.Ok)
            {
                await setup.DisposeAsync().ConfigureAwait(false);
                return (null, units.Problems);
            }

            return (setup, []);
        }
        finally
        {
            folderLock?.Dispose();
        }
    }

    private static void ResetFolder(string path)
    {
        // Shadow copies of a previous run are never in use: a host owns its data folder.
        ShadowCopy.TryDelete(path);
        PrivateFiles.CreateFolder(path);
    }

    public async ValueTask DisposeAsync()
    {
        await Plugins.DisposeAsync().ConfigureAwait(false);
        if (EventJournal is not null)
        {
            await EventJournal.DisposeAsync().ConfigureAwait(false);
        }
        if (_ownsShadowRoot)
        {
            ShadowCopy.TryDelete(ShadowRoot);
        }

        _lock?.Dispose();
    }
}
