using System.Text.RegularExpressions;
using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.Process;

/// <summary>
/// <code>
/// spec:
///   command: /usr/bin/python3     # a path, or a name looked up on PATH
///   args: [-m, http.server, "{port:http}"]
///   env: { PYTHONUNBUFFERED: "1" }
///   cwd: ./app                    # relative to the manifest's folder; default: the unit's data folder
///   outputEvents: app-output      # also publish each output line as an event of this kind (≤ 100/s)
/// </code>
/// </summary>
internal sealed partial record ProcessSpec(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory,
    string? OutputEvents = null)
{
    public static (ProcessSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var command = reader.RequiredString("command");
        var args = reader.StringList("args");
        var env = reader.StringMap("env");
        var cwd = reader.String("cwd");
        var outputEvents = reader.String("outputEvents");
        if (outputEvents is not null && !EventKind().IsMatch(outputEvents))
        {
            reader.Report(mapping["outputEvents"]!, $"\"{outputEvents}\"", "an event kind: a lower-case letter, then lower-case letters, digits, '-' or '_' (e.g. app-output)");
        }
        if (command.Contains('\0', StringComparison.Ordinal))
        {
            reader.Report(mapping["command"]!, "a command containing a NUL character", "a program path or name");
        }

        reader.RejectUnknownKeys();
        return (new ProcessSpec(command, args, env, cwd, outputEvents), reader.Problems);
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$")]
    private static partial Regex EventKind();
}
