using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Shimmy.Accel;
using PluginHost.Plugins.Shimmy.Models;

namespace PluginHost.Plugins.Shimmy;

internal sealed partial class ShimmyDriver
{
    public IReadOnlyList<UnitOperation> Operations { get; } =
    [
        new("ensureReady", "Starts shimmy if needed (downloading a missing model first when spec.download says where) and answers when /v1/models serves; concurrent callers share one start and one result.") { LongRunning = true },
        new("start", "Enables the on-device model: starts shimmy without waiting."),
        new("stop", "Disables it: stops shimmy (SIGTERM, 5 s, SIGKILL) and frees its port and memory."),
        new("getPort", "The port shimmy serves on (null while it is not running)."),
        new("status", "The seed's state, port, pid, accelerator, model, GPU memory when nvidia-smi is present."),
        new("download", "Downloads the model (resume, SHA-256, retries with backoff), with progress events.") { LongRunning = true },
        new("clearCache", "Removes partial downloads, stale locks and a model whose checksum does not match, so the next download starts clean."),
        new("gpuInfo", "The accelerators detected on this machine, why, and which one shimmy runs with."),
        new("errors", "The ShimmyErrorCode table: trigger, recovery and user message, in English and Korean."),
    ];

    public async ValueTask<OperationResult> InvokeAsync(IUnitContext context, string operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (operation)
        {
            case "ensureReady":
                return await EnsureReadyAsync(context, cancellationToken).ConfigureAwait(false);
            case "start":
                var started = context.Control.Start("on-device model enabled");
                return OperationResult.Ok(started.Message, Data(Status(context)));
            case "stop":
                var stopped = context.Control.Stop("on-device model disabled");
                return OperationResult.Ok(stopped.Message, Data(Status(context)));
            case "getPort":
                var port = context.Control.State == UnitState.Ready ? Port(context) : null;
                return OperationResult.Ok(port is null ? $"{context.UnitName} is not running" : $"{context.UnitName} serves on port {port}", Data(new JsonObject { ["port"] = port }));
            case "status":
                var status = Status(context);
                status["gpuMemoryMb"] = await GpuMemoryMegabytesAsync(context, cancellationToken).ConfigureAwait(false);
                return OperationResult.Ok($"{context.UnitName} is {status["state"]}", Data(status));
            case "download":
                var setup = Preflight(context, requireModel: false);
                var attempts = await DownloadAsync(context, setup, cancellationToken).ConfigureAwait(false);
                return OperationResult.Ok(attempts == 0 ? $"{setup.Spec.Model} is already present" : $"downloaded {setup.Spec.Model} in {attempts} attempt(s)",
                    Data(new JsonObject { ["path"] = setup.ModelPath, ["attempts"] = attempts }));
            case "clearCache":
                var removed = ClearCache(Preflight(context, requireModel: false));
                return OperationResult.Ok(removed.Count == 0 ? "nothing to clear" : $"removed {removed.Count} file(s)",
                    Data(new JsonObject { ["removed"] = new JsonArray([.. removed.Select(r => (JsonNode?)r)]) }));
            case "gpuInfo":
                return OperationResult.Ok("accelerators detected", Data(GpuInfo(context)));
            case "errors":
                return OperationResult.Ok("ShimmyErrorCode table", Data(ErrorTable()));
            default:
                return OperationResult.Fail($"shimmy does not offer \"{operation}\"");
        }
    }

    private async Task<OperationResult> EnsureReadyAsync(IUnitContext context, CancellationToken cancellationToken)
    {
        if (context.Control.State != UnitState.Ready)
        {
            // Only to fetch a missing model before the start. Any other preflight problem (no shimmy
            // binary, no model and nowhere to get it, an accelerator the machine lacks) is left to the
            // unit's own start, which fails on it: the unit is then `failed` with that code and remedy,
            // with its event, exactly as after `start` — and this answer carries the same error.
            if (TryPreflight(context) is { ModelPath: { } modelPath, Spec.Download: not null } setup && !File.Exists(modelPath))
            {
                await DownloadAsync(context, setup, cancellationToken).ConfigureAwait(false);
            }

            context.Control.Start("ensureReady");
            try
            {
                await context.Control.WhenReadyAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (UnitErrorException ex)
            {
                return OperationResult.Fail(ex.Error) with { Data = Data(Status(context)) };
            }
        }

        return OperationResult.Ok($"{context.UnitName} is ready on port {Port(context)}", Data(Status(context)));
    }

    private ShimmySetup? TryPreflight(IUnitContext context)
    {
        try
        {
            return Preflight(context, requireModel: false);
        }
        catch (UnitErrorException)
        {
            return null;
        }
    }

    /// <returns>Attempts made (0 when the model was already there).</returns>
    private async Task<int> DownloadAsync(IUnitContext context, ShimmySetup setup, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.CurrentUICulture;
        if (setup.ModelPath is null || setup.Spec.Download is not { } source)
        {
            throw new UnitErrorException(new UnitError("NO_DOWNLOAD_SOURCE", "The spec names no model to download (spec.model and spec.download.url).",
                "Add spec.model and spec.download: { url, sha256 } to the manifest."));
        }

        if (File.Exists(setup.ModelPath))
        {
            return 0;
        }

        // One transfer per file, whoever asks; a finished or failed one is forgotten so a later call can try again.
        var shared = _downloads.GetOrAdd(setup.ModelPath, path => new Lazy<Task<int>>(() => RunDownloadAsync(context, source, path)));
        try
        {
            return await shared.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DownloadFailedException ex)
        {
            throw new UnitErrorException(ShimmyErrors.Create(ShimmyErrorCode.DownloadFailed, ex.Message, culture,
                $"pluginhost ops {context.UnitName} clearCache, then download again"));
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UnitErrorException(ShimmyErrors.Create(ShimmyErrorCode.DownloadFailed, $"the models folder is not writable: {ex.Message}", culture,
                "give the host's user write access to the models folder"));
        }
    }

    private async Task<int> RunDownloadAsync(IUnitContext context, ModelSource source, string path)
    {
        var events = context.Events; // the context is only valid during the call: keep what the transfer needs
        var time = context.Time;
        var name = Path.GetFileName(path);
        var progress = new ThrottledProgress(time, p => events.Publish("shimmy_download_progress", new JsonObject
        {
            ["model"] = name,
            ["bytes"] = p.Bytes,
            ["total"] = p.Total,
            ["percent"] = p.Total is > 0 and var total ? Math.Round(100.0 * p.Bytes / total, 1) : null,
        }));
        try
        {
            events.Publish("shimmy_download_started", new JsonObject { ["model"] = name, ["url"] = source.Url });
            var attempts = await downloader.DownloadAsync(source, path, progress, time, CancellationToken.None).ConfigureAwait(false);
            progress.Flush();
            events.Publish("shimmy_download_done", new JsonObject { ["model"] = name, ["attempts"] = attempts, ["verified"] = source.Sha256 is not null });
            return attempts;
        }
        catch (Exception ex) when (ex is DownloadFailedException or UnauthorizedAccessException)
        {
            events.Publish("shimmy_download_failed", new JsonObject { ["model"] = name, ["message"] = ex.Message });
            throw;
        }
        finally
        {
            _downloads.TryRemove(path, out _);
        }
    }

    private static List<string> ClearCache(ShimmySetup setup)
    {
        var removed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(setup.ModelsDirectory).Where(f => f.EndsWith(".part", StringComparison.Ordinal) || f.EndsWith(".lock", StringComparison.Ordinal)))
        {
            File.Delete(file);
            removed.Add(file);
        }

        if (setup.ModelPath is { } model && File.Exists(model) && setup.Spec.Download?.Sha256 is { } expected
            && !string.Equals(ModelDownloader.Sha256Async(model, CancellationToken.None).GetAwaiter().GetResult(), expected, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(model);
            removed.Add(model);
        }

        return removed;
    }

    private JsonObject Status(IUnitContext context)
    {
        var pid = context.Process?.Pid;
        var model = context.State.Get(ModelKey);
        return new JsonObject
        {
            ["state"] = SeedState(context.Control.State),
            ["port"] = context.Control.State == UnitState.Ready ? Port(context) : null,
            ["pid"] = pid,
            ["accel"] = context.State.Get(AccelKey),
            ["model"] = model,
        };
    }

    private async Task<long?> GpuMemoryMegabytesAsync(IUnitContext context, CancellationToken cancellationToken) =>
        context.Process is { } process && accelProbes.CommandExists("nvidia-smi")
            ? await GpuMemory.UsedMegabytesAsync(process.Pid, cancellationToken).ConfigureAwait(false)
            : null;

    private JsonObject GpuInfo(IUnitContext context)
    {
        var report = AccelDetector.Detect(accelProbes);
        var (spec, _) = ShimmySpec.Read(context.Spec);
        var chosen = AccelDetector.Choose(report, spec.Accel, spec.AllowCpuFallback);
        return new JsonObject
        {
            ["available"] = new JsonArray([.. report.Available.Select(a => (JsonNode?)AccelDetector.Name(a))]),
            ["evidence"] = new JsonObject([.. report.Evidence.Select(e => KeyValuePair.Create(AccelDetector.Name(e.Key), (JsonNode?)e.Value))]),
            ["requested"] = spec.Accel,
            ["using"] = chosen is { } c ? AccelDetector.Name(c) : null,
            ["flags"] = chosen is { } f ? new JsonArray([.. AccelDetector.Flags(f).Select(x => (JsonNode?)x)]) : null,
        };
    }

    private static JsonObject ErrorTable() => new()
    {
        ["codes"] = new JsonArray([.. ShimmyErrors.Table.Select(e => (JsonNode?)new JsonObject
        {
            ["code"] = e.Name,
            ["trigger"] = new JsonObject { ["en"] = e.Trigger.English, ["ko"] = e.Trigger.Korean },
            ["recovery"] = new JsonObject { ["en"] = e.Recovery.English, ["ko"] = e.Recovery.Korean },
            ["message"] = new JsonObject { ["en"] = e.Message.English, ["ko"] = e.Message.Korean },
        })]),
    };

    private static JsonElement Data(JsonObject value) => JsonSerializer.SerializeToElement(value);
}
