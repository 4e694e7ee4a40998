using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.StationBatch;

/// <summary>How the plugin's programs (the batch worker, the sync sender) are launched: the runtime's own dotnet, a settings file in the unit's folder, no server GC.</summary>
internal static class DotnetProgram
{
    /// <summary>Writes <paramref name="settings"/> to <c>DATA/units/NAME/FILE</c> and plans <c>dotnet PROGRAM --config FILE</c> with the unit's environment.</summary>
    public static LaunchPlan Plan(IUnitContext context, string program, string settingsFile, JsonObject settings)
    {
        var path = Path.Combine(context.DataDirectory, settingsFile);
        File.WriteAllText(path, settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return new LaunchPlan(Host())
        {
            Arguments = [program, "--config", path],
            Environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal) { ["DOTNET_gcServer"] = "0" },
            WorkingDirectory = context.DataDirectory,
            OutputEventKind = null,
        };
    }

    /// <summary>The dotnet executable of the runtime the host runs on (not whichever is first on PATH).</summary>
    public static string Host()
    {
        var runtime = RuntimeEnvironment.GetRuntimeDirectory(); // …/shared/Microsoft.NETCore.App/10.0.x/
        var root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var dotnet = Path.Combine(root, "dotnet");
        return File.Exists(dotnet) ? dotnet : "dotnet";
    }
}
