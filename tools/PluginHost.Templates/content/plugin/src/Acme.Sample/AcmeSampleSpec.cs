using PluginHost.Contracts.Specs;

namespace Acme.Sample;

/// <summary>
/// The <c>spec:</c> section of an acme-sample unit, read with every problem reported at its line
/// and column (an unknown key gets a suggestion):
/// <code>
#if (sidecar)
/// spec:
///   command: python3                 # the server: a path, or a name looked up on PATH
///   args: [-m, http.server, "{port:http}", --bind, 127.0.0.1]
///   port: 8080                        # preferred port; the host takes the next free one within 10
///   healthPath: /                     # ready once GET http://127.0.0.1:{port}{healthPath} answers 2xx
///   env: { KEY: value }
#else
/// spec:
///   command: /bin/sh                  # the program: a path, or a name looked up on PATH
///   args: [-i]
///   cols: 120                         # the terminal's size (a viewer may resize it)
///   rows: 40
///   env: { TERM: xterm-256color }
#endif
/// </code>
/// </summary>
#if (sidecar)
internal sealed record AcmeSampleSpec(string Command, IReadOnlyList<string> Arguments, int Port, string HealthPath, IReadOnlyDictionary<string, string> Environment)
#else
internal sealed record AcmeSampleSpec(string Command, IReadOnlyList<string> Arguments, int Columns, int Rows, IReadOnlyDictionary<string, string> Environment)
#endif
{
    public static (AcmeSampleSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var command = reader.RequiredString("command");
        var args = reader.StringList("args");
#if (sidecar)
        var port = reader.Int("port", 1, 65535) ?? 8080;
        var healthPath = reader.String("healthPath") ?? "/";
        if (!healthPath.StartsWith('/'))
        {
            reader.Report(mapping["healthPath"]!, $"\"{healthPath}\"", "a path starting with /, e.g. /health");
        }
#else
        var columns = reader.Int("cols", 20, 500) ?? 120;
        var rows = reader.Int("rows", 5, 200) ?? 40;
#endif
        var env = reader.StringMap("env");
        reader.RejectUnknownKeys();
#if (sidecar)
        return (new AcmeSampleSpec(command, args, port, healthPath, env), reader.Problems);
#else
        return (new AcmeSampleSpec(command, args, columns, rows, env), reader.Problems);
#endif
    }
}
