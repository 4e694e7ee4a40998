using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.PythonServer;

/// <summary>
/// <code>
/// spec:
///   app: main:app               # required: module:attribute of the ASGI app
///   appDir: ./app               # where the module is; relative to the manifest's folder (default: that folder)
///   python: python3             # a name on PATH or a path (a virtualenv's bin/python works), or auto:
///                               # the first of appDir/.venv, appDir/venv, PATH, /usr/bin… that imports uvicorn and fastapi
///   host: 127.0.0.1
///   port: 8121                  # preferred; the next free one is taken when it is busy
///   portScan: 10                # how many ports after it to try before PORT_IN_USE
///   readinessPath: /openapi.json
///   uvicornArgs: [--workers, "1"]
///   env: { APP_MODE: dev }
/// </code>
/// </summary>
internal sealed record PythonServerSpec(
    string App,
    string? AppDirectory,
    string Python,
    string Host,
    int Port,
    int PortScan,
    string ReadinessPath,
    IReadOnlyList<string> UvicornArguments,
    IReadOnlyDictionary<string, string> Environment)
{
    public const int DefaultPort = 8121;

    public const string AutoPython = "auto";

    public static (PythonServerSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var app = reader.RequiredString("app");
        if (app.Length > 0 && (app.Split(':') is not [{ Length: > 0 }, { Length: > 0 }]))
        {
            reader.Report(mapping["app"]!, $"\"{app}\"", "module:attribute, e.g. main:app");
        }

        var readiness = reader.String("readinessPath") ?? "/openapi.json";
        if (!readiness.StartsWith('/'))
        {
            reader.Report(mapping["readinessPath"]!, $"\"{readiness}\"", "a path starting with /");
        }

        var spec = new PythonServerSpec(
            app,
            reader.String("appDir"),
            reader.String("python") ?? "python3",
            reader.String("host") ?? "127.0.0.1",
            reader.Int("port", 1, 65535) ?? DefaultPort,
            reader.Int("portScan", 0, 1000) ?? 10,
            readiness,
            reader.StringList("uvicornArgs"),
            reader.StringMap("env"));
        reader.RejectUnknownKeys();
        return (spec, reader.Problems);
    }
}
