namespace PluginHost.Contracts;

/// <summary>
/// The version of these contracts. A plugin is compiled against one version; the host accepts it
/// when the major versions are equal and the plugin's minor is not newer than the host's.
/// </summary>
public static class ContractsVersion
{
    public const int Major = 1;
    public const int Minor = 7;

    public static Version Current { get; } = new(Major, Minor);

    /// <summary>True when a plugin built against <paramref name="builtAgainst"/> can run on this host.</summary>
    public static bool IsCompatible(Version builtAgainst)
    {
        ArgumentNullException.ThrowIfNull(builtAgainst);
        return builtAgainst.Major == Major && builtAgainst.Minor <= Minor;
    }
}
