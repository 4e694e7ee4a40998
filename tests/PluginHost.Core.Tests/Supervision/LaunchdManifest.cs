namespace PluginHost.Core.Tests.Supervision;

/// <summary>A launchd-service unit's manifest around the spec a test writes (its keys as in a plist).</summary>
internal static class LaunchdManifest
{
    public static string Of(string name, string spec) => $"""
        apiVersion: pluginhost/v1
        kind: launchd-service
        name: {name}
        spec:
        {string.Join('\n', spec.Split('\n').Select(l => "  " + l))}
        """;
}
