using PluginHost.Contracts.Specs;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Contracts.Formats;

/// <summary>
/// Another supervisor's file format that units can be imported from or exported to (since 1.7):
/// <c>pluginhost import NAME FILE…</c> and <c>pluginhost export NAME UNIT…</c>. The host knows no
/// format; a plugin registers it with <see cref="Plugins.IPluginBuilder.AddUnitFormat"/>.
/// </summary>
public interface IUnitFormat
{
    /// <summary>The name operators type: <c>plist</c>, <c>systemd</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>--help</c> and for errors.</summary>
    string Description { get; }

    bool CanImport => false;

    /// <summary>
    /// Reads one file into unit manifests. Every key it cannot honour is a note, never silence; a
    /// file it cannot read at all throws <see cref="UnitFormatException"/> with what and where.
    /// </summary>
    UnitImport Import(string path, byte[] content) => throw new UnitFormatException($"{Name} files cannot be imported", "Use a format that can be imported.");

    /// <summary>The file an exported unit is written to, e.g. <c>NAME.service</c>.</summary>
    string ExportFileName(ExportedUnit unit);

    /// <summary>Writes one unit in this format; what it cannot express is a note.</summary>
    UnitExport Export(ExportedUnit unit);
}

/// <summary>The manifests read from one file, and what of it they do not keep.</summary>
public sealed record UnitImport(IReadOnlyList<ImportedManifest> Manifests, IReadOnlyList<FormatNote> Notes);

/// <summary>A unit manifest as YAML text, and the file name it is meant to have (<c>NAME.yaml</c>).</summary>
public sealed record ImportedManifest(string UnitName, string Yaml);

/// <summary>A key that is not honoured (or is honoured differently): which one, and what happens instead.</summary>
public sealed record FormatNote(string Key, string Message);

/// <summary>The text of an exported unit and what it could not express.</summary>
public sealed record UnitExport(string Text, IReadOnlyList<FormatNote> Notes);

/// <summary>
/// What the host knows of a unit to export: its manifest's sections and the launch its driver
/// plans (placeholders resolved with the manifest's preferred ports, the unit's data folder).
/// </summary>
/// <param name="Plan">Null when the driver could not plan a launch here (<see cref="PlanError"/> says why); a format may still write the unit from its spec.</param>
public sealed record ExportedUnit(string Name, string Kind, string ManifestPath, LaunchPlan? Plan, SpecMapping Spec)
{
    public UnitError? PlanError { get; init; }

    /// <summary>The manifest has readiness or liveness probes (which most other supervisors cannot express).</summary>
    public bool HasHealthChecks { get; init; }

    public bool Enabled { get; init; } = true;

    public bool Autostart { get; init; } = true;

    public IReadOnlyList<string> After { get; init; } = [];

    public RestartSettings Restart { get; init; } = RestartSettings.Default;

    public StopSettings Stop { get; init; } = StopSettings.Default;

    /// <summary>The port numbers the manifest prefers, by name.</summary>
    public IReadOnlyDictionary<string, int> Ports { get; init; } = new Dictionary<string, int>();

    /// <summary>The host's own capture of the unit's output (where the host would write it).</summary>
    public string? LogPath { get; init; }
}

/// <summary>A file a format cannot read, or a unit it cannot write: what, where, and what to do.</summary>
public sealed class UnitFormatException : Exception
{
    public UnitFormatException(string message, string remedy)
        : base(message)
    {
        Remedy = remedy;
    }

    public UnitFormatException()
        : this("The file cannot be read.", "Check the file.")
    {
    }

    public UnitFormatException(string message)
        : this(message, "Check the file.")
    {
    }

    public UnitFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Remedy = "Check the file.";
    }

    public string Remedy { get; }
}
