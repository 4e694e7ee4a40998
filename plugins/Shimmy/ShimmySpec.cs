using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.Shimmy;

/// <summary>
/// <code>
/// spec:
///   binary: shimmy               # a name on PATH or a path
///   modelsDir: ~/models          # default: SHIMMY_MODELS_DIR (manifest env, then the host's), else the unit's data/models
///   model: phi-3-mini.gguf       # the default model, a file in modelsDir (optional: shimmy discovers models itself)
///   download:                    # where to get the model when it is missing (optional)
///     url: https://…/phi-3-mini.gguf
///     sha256: 3f2a…
///     retries: 4
///   logLevel: info               # SHIMMY_LOG_LEVEL: error | warn | info | debug | trace
///   accel: auto                  # auto | cpu | cuda | vulkan | opencl | metal | mlx
///   allowCpuFallback: true       # a requested accelerator the machine lacks → CPU instead of UNSUPPORTED_ACCEL
///   host: 127.0.0.1
///   port: 11435                  # preferred; then up to portScan more
///   portScan: 10
///   startTimeout: 120s           # /v1/models must answer within this; one restart, then START_TIMEOUT
///   maxRestarts: 3               # crash watch: automatic restarts within a minute before failed
///   args: []                     # extra arguments to `shimmy serve`
/// </code>
/// </summary>
internal sealed record ShimmySpec(
    string Binary,
    string? ModelsDirectory,
    string? Model,
    ModelSource? Download,
    string? LogLevel,
    string Accel,
    bool AllowCpuFallback,
    string Host,
    int Port,
    int PortScan,
    TimeSpan StartTimeout,
    int MaxRestarts,
    IReadOnlyList<string> Arguments)
{
    public const int DefaultPort = 11435;

    public static readonly string[] LogLevels = ["error", "warn", "info", "debug", "trace"];

    public static readonly string[] Accelerators = ["auto", "cpu", "cuda", "vulkan", "opencl", "metal", "mlx"];

    public static (ShimmySpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        ModelSource? download = null;
        if (reader.Section("download") is { } section)
        {
            var url = section.RequiredString("url");
            if (url.Length > 0 && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                section.Report(section.Mapping["url"]!, $"\"{url}\"", "an http or https URL");
            }

            var sha = section.String("sha256");
            if (sha is not null && (sha.Length != 64 || !sha.All(Uri.IsHexDigit)))
            {
                section.Report(section.Mapping["sha256"]!, $"\"{sha}\"", "the file's SHA-256 as 64 hex digits");
            }

            download = new ModelSource(url, sha?.ToLowerInvariant(), section.Int("retries", 0, 20) ?? 4);
            section.RejectUnknownKeys(); // problems land in this reader's list: a section shares it
        }

        var model = reader.String("model");
        if (model is not null && (model.Contains('/', StringComparison.Ordinal) || model is "." or ".."))
        {
            reader.Report(mapping["model"]!, $"\"{model}\"", "a file name inside modelsDir, e.g. phi-3-mini.gguf");
        }

        var spec = new ShimmySpec(
            reader.String("binary") ?? "shimmy",
            reader.String("modelsDir"),
            model,
            download,
            reader.OneOf("logLevel", LogLevels),
            reader.OneOf("accel", Accelerators) ?? "auto",
            reader.Bool("allowCpuFallback") ?? true,
            reader.String("host") ?? "127.0.0.1",
            reader.Int("port", 1, 65535) ?? DefaultPort,
            reader.Int("portScan", 0, 1000) ?? 10,
            reader.Duration("startTimeout", TimeSpan.FromSeconds(1)) ?? TimeSpan.FromSeconds(120),
            reader.Int("maxRestarts", 0, 100) ?? 3,
            reader.StringList("args"));
        if (download is not null && model is null)
        {
            reader.ReportMissing("model", "the file name the download is saved as in modelsDir");
        }

        reader.RejectUnknownKeys();
        return (spec, reader.Problems);
    }
}

/// <summary>Where a missing model is downloaded from, and the checksum it must have.</summary>
internal sealed record ModelSource(string Url, string? Sha256, int Retries);
