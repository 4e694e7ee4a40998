namespace PluginHost.Core.Plugins;

/// <summary>Why a plugin folder could not be loaded, and what to do about it.</summary>
internal sealed class PluginLoadException : Exception
{
    public PluginLoadException(PluginLoadFailure failure, string message, string remedy)
        : base(message)
    {
        Failure = failure;
        Remedy = remedy;
    }

    public PluginLoadException(PluginLoadFailure failure, string message, string remedy, Exception inner)
        : base(message, inner)
    {
        Failure = failure;
        Remedy = remedy;
    }

    public PluginLoadException()
        : this(PluginLoadFailure.EntryPointFailed, "The plugin could not be loaded.", "Check the plugin's folder.")
    {
    }

    public PluginLoadException(string message)
        : this(PluginLoadFailure.EntryPointFailed, message, "Check the plugin's folder.")
    {
    }

    public PluginLoadException(string message, Exception innerException)
        : this(PluginLoadFailure.EntryPointFailed, message, "Check the plugin's folder.", innerException)
    {
    }

    public PluginLoadFailure Failure { get; }

    public string Remedy { get; }

    /// <summary>A stable code for messages and events, e.g. <c>PLUGIN_INCOMPATIBLE_CONTRACTS</c>.</summary>
    public string Code => "PLUGIN_" + string.Concat(Failure.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
}

internal enum PluginLoadFailure
{
    DescriptorInvalid,
    AssemblyMissing,
    NotDotNetAssembly,
    NotAPlugin,
    IncompatibleContracts,
    MissingDependency,
    EntryPointFailed,
    KindsMismatch,
    KindConflict,
    FolderUnreadable,
    PanelMissing,
}
