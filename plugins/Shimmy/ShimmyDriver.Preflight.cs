using System.Globalization;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Process;
using PluginHost.Plugins.Shimmy.Accel;

namespace PluginHost.Plugins.Shimmy;

/// <summary>Everything a start needs, checked before anything is spawned.</summary>
internal sealed record ShimmySetup(ShimmySpec Spec, string Binary, string ModelsDirectory, string? ModelPath, string LogLevel, Accelerator Accelerator, AccelReport Accel);

internal sealed partial class ShimmyDriver
{
    /// <summary>
    /// The seed's preflight: each failure early, with its code and remedy — binary, models folder,
    /// SHIMMY_LOG_LEVEL, the model, the accelerator. Also used by the operations (status, download).
    /// </summary>
    private ShimmySetup Preflight(IUnitContext context, bool requireModel = true)
    {
        var culture = CultureInfo.CurrentUICulture;
        var (spec, problems) = ShimmySpec.Read(context.Spec);
        if (problems.Count > 0)
        {
            throw Fail("INVALID_SPEC", "The unit's spec is invalid: " + string.Join("; ", problems), "Fix the manifest as described; `pluginhost validate` lists every problem.");
        }

        var binary = CommandLocator.Resolve(CommandLocator.ExpandHome(spec.Binary), context.ManifestDirectory)
            ?? throw Fail("SHIMMY_NOT_FOUND", $"The shimmy binary \"{spec.Binary}\" was not found or is not executable.",
                "Install shimmy (https://github.com/Michael-A-Kuykendall/shimmy/releases) and put it on PATH, or set spec.binary to its path.");

        var logLevel = spec.LogLevel ?? Setting(context, "SHIMMY_LOG_LEVEL") ?? "info";
        if (!ShimmySpec.LogLevels.Contains(logLevel))
        {
            throw Fail("INVALID_LOG_LEVEL", $"SHIMMY_LOG_LEVEL is \"{logLevel}\", which shimmy does not know.",
                $"Set SHIMMY_LOG_LEVEL (or spec.logLevel) to one of {string.Join(", ", ShimmySpec.LogLevels)}.");
        }

        var modelsDirectory = ModelsDirectory(context, spec);
        if (!Directory.Exists(modelsDirectory))
        {
            throw Fail("MODELS_DIR_NOT_FOUND", $"The models folder {modelsDirectory} does not exist.",
                "Create it, or point SHIMMY_MODELS_DIR (or spec.modelsDir) at the folder that holds your models.");
        }

        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(modelsDirectory).GetEnumerator();
            entries.MoveNext();
        }
        catch (UnauthorizedAccessException)
        {
            throw Fail("MODELS_DIR_UNREADABLE", $"The models folder {modelsDirectory} cannot be read by the host's user.",
                $"Give the host's user read access (e.g. chmod o+rx {modelsDirectory}) or choose another folder.");
        }

        string? modelPath = spec.Model is null ? null : Path.Combine(modelsDirectory, spec.Model);
        if (requireModel && modelPath is not null && !File.Exists(modelPath))
        {
            throw ModelNotFound(context.UnitName, spec, modelsDirectory, modelPath);
        }

        var report = AccelDetector.Detect(accelProbes);
        var accelerator = AccelDetector.Choose(report, spec.Accel, spec.AllowCpuFallback)
            ?? throw new UnitErrorException(ShimmyErrors.Create(ShimmyErrorCode.UnsupportedAccel,
                $"requested {spec.Accel}; this machine has {string.Join(", ", report.Available.Select(AccelDetector.Name))}", culture,
                "set spec.accel to auto or one of those, or allowCpuFallback: true"));
        if (spec.Accel != "auto" && accelerator == Accelerator.Cpu && spec.Accel != "cpu")
        {
            context.Events.Publish("shimmy_accel_fallback", new System.Text.Json.Nodes.JsonObject { ["requested"] = spec.Accel, ["using"] = "cpu" });
        }

        return new ShimmySetup(spec, binary, modelsDirectory, modelPath, logLevel, accelerator, report);
    }

    private static UnitErrorException ModelNotFound(string unit, ShimmySpec spec, string modelsDirectory, string modelPath) =>
        new(ShimmyErrors.Create(ShimmyErrorCode.ModelNotFound, $"{modelPath} does not exist", CultureInfo.CurrentUICulture,
            spec.Download is null ? $"put {spec.Model} in {modelsDirectory}, or add spec.download with its URL"
                : $"pluginhost ops {unit} download (or ensureReady, which downloads it first)"));

    private static string ModelsDirectory(IUnitContext context, ShimmySpec spec)
    {
        var configured = spec.ModelsDirectory ?? Setting(context, "SHIMMY_MODELS_DIR");
        if (configured is null)
        {
            var own = Path.Combine(context.DataDirectory, "models");
            Directory.CreateDirectory(own); // the unit's own folder: nothing to configure for a first run
            return own;
        }

        return Path.GetFullPath(Path.Combine(context.ManifestDirectory, CommandLocator.ExpandHome(configured)));
    }

    /// <summary>The manifest's env first, then the host's environment.</summary>
    private static string? Setting(IUnitContext context, string name) =>
        context.Environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name) is { Length: > 0 } host ? host : null;


    private static UnitErrorException Fail(string code, string message, string remedy) => new(new UnitError(code, message, remedy));
}
