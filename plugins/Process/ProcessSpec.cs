using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.Process;

/// <summary>
/// <code>
/// spec:
///   command: /usr/bin/python3     # a path, or a name looked up on PATH
///   args: [-m, http.server, "{port:http}"]
///   env: { PYTHONUNBUFFERED: "1" }
///   cwd: ./app                    # relative to the manifest's folder; default: the unit's data folder
/// </code>
/// </summary>
internal sealed record ProcessSpec(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory)
{
    public static (ProcessSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var command = reader.RequiredString("command");
        var args = reader.StringList("args");
        var env = reader.StringMap("env");
        var cwd = reader.String("cwd");
        if (command.Contains('\0', StringComparison.Ordinal))
        {
            reader.Report(mapping["command"]!, "a command containing a NUL character", "a program path or name");
        }

        reader.RejectUnknownKeys();
        return (new ProcessSpec(command, args, env, cwd), reader.Problems);
    }
}
