namespace PluginHost.Core.Tests.Supervision;

/// <summary>Unit manifests for engine tests: a bash script run by the process plugin, plus optional host-owned sections.</summary>
internal static class UnitYaml
{
    public static string Bash(string name, string script, string extra = "") => $"""
        apiVersion: pluginhost/v1
        kind: process
        name: {name}
        {extra}
        spec:
          command: /bin/bash
          args: [-c, '{script.Replace("'", "''", StringComparison.Ordinal)}']
        """;
}
