using System.Globalization;
using System.Text.Json;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using Xunit;

namespace PluginHost.Plugins.Shimmy.Tests;

/// <summary>The driver as the host loads it: preflight codes, the launch plan, on-demand defaults, the seed's state mapping.</summary>
public sealed class ShimmyDriverTests : IAsyncLifetime
{
    private static readonly string FakeShimmy = Path.Combine(RepositoryLayout.Root, "tests", "fixtures", "fake-shimmy", "shimmy");
    private readonly TempDirectory _dir = new("shimmy-plugin");
    private LoadedPluginUnderTest _plugin = null!;

    public async Task InitializeAsync()
    {
        _plugin = await LoadedPluginUnderTest.LoadAsync(RepositoryLayout.Plugin("shimmy"));
        Directory.CreateDirectory(_dir.Combine("manifests", "models"));
    }

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _dir.Dispose();
    }

    private IUnitDriver Driver => _plugin.Driver("shimmy");

    private IUnitContext Context(string spec, IReadOnlyDictionary<string, string>? env = null, TestUnitControl? control = null) =>
        TestUnitContext.Create("shimmy", spec, _dir.Combine("manifests"), _dir.Combine("data"), env, new Dictionary<string, int> { ["http"] = 11500 }, control: control);

    private async Task<UnitError> PreflightErrorAsync(string spec, IReadOnlyDictionary<string, string>? env = null) =>
        (await Assert.ThrowsAsync<UnitErrorException>(() => Driver.PrepareAsync(Context(spec, env), CancellationToken.None).AsTask())).Error;

    [Fact]
    public async Task The_plan_runs_shimmy_serve_on_the_allocated_port_with_the_model_the_backend_and_a_clean_runtime_folder()
    {
        await File.WriteAllTextAsync(_dir.Combine("manifests", "models", "m.gguf"), "gguf");
        Directory.CreateDirectory(_dir.Combine("data", "run"));
        await File.WriteAllTextAsync(_dir.Combine("data", "run", "shimmy.lock"), "stale");

        var plan = await Driver.PrepareAsync(Context($"binary: {FakeShimmy}\nmodelsDir: models\nmodel: m.gguf\naccel: cpu\nlogLevel: debug"), CancellationToken.None);

        var models = _dir.Combine("manifests", "models");
        Assert.Equal(FakeShimmy, plan.Command);
        Assert.Equal(["--model-dirs", models, "--gpu-backend", "cpu", "serve", "--bind", "127.0.0.1:{port:http}", "--model-path", Path.Combine(models, "m.gguf")], plan.Arguments);
        Assert.Equal(("debug", Path.Combine(models, "m.gguf"), _dir.Combine("data", "run")), (plan.Environment["SHIMMY_LOG_LEVEL"], plan.Environment["SHIMMY_BASE_GGUF"], plan.Environment["TMPDIR"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Combine("data", "run"))); // last run's lock is gone
        Assert.Equal((Contracts.Supervision.UnixSignal.Term, TimeSpan.FromSeconds(5)), (plan.Stop!.Signal, plan.Stop.Grace));
    }

    [Fact]
    public void It_is_never_started_with_the_host_and_asks_v1_models_with_a_120_second_start_timeout()
    {
        var defaults = Driver.Defaults(SpecYaml.Parse("model: m.gguf"));

        Assert.False(defaults.Autostart);
        Assert.Equal("/v1/models", Assert.IsType<Contracts.Supervision.HttpProbe>(defaults.Health!.Readiness).Path);
        Assert.Equal("/v1/models", Assert.IsType<Contracts.Supervision.HttpProbe>(defaults.Health.Liveness).Path);
        Assert.Equal(TimeSpan.FromSeconds(120), defaults.Health.StartTimeout);
        Assert.Equal(3, defaults.Restart!.MaxRestarts);
        Assert.Equal([new PortRequest("http", 11435, 10)], Driver.RequestPorts(SpecYaml.Parse("model: m.gguf")));
    }

    [Fact]
    public async Task A_missing_binary_is_SHIMMY_NOT_FOUND()
    {
        var error = await PreflightErrorAsync("binary: no-such-shimmy-binary");

        Assert.Equal("SHIMMY_NOT_FOUND", error.Code);
        Assert.Contains("spec.binary", error.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_SHIMMY_LOG_LEVEL_from_the_environment_is_refused_before_start()
    {
        var error = await PreflightErrorAsync($"binary: {FakeShimmy}\nmodelsDir: models", new Dictionary<string, string> { ["SHIMMY_LOG_LEVEL"] = "verbose" });

        Assert.Equal("INVALID_LOG_LEVEL", error.Code);
        Assert.Contains("error, warn, info, debug, trace", error.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SHIMMY_MODELS_DIR_pointing_nowhere_is_MODELS_DIR_NOT_FOUND()
    {
        var error = await PreflightErrorAsync($"binary: {FakeShimmy}", new Dictionary<string, string> { ["SHIMMY_MODELS_DIR"] = "/no/such/models" });

        Assert.Equal("MODELS_DIR_NOT_FOUND", error.Code);
        Assert.Contains("/no/such/models", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_is_MODEL_NOT_FOUND_with_the_download_step_in_Korean_under_a_Korean_culture()
    {
        var previous = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = new CultureInfo("ko-KR");
        try
        {
            var error = await PreflightErrorAsync($"binary: {FakeShimmy}\nmodelsDir: models\nmodel: absent.gguf\ndownload: {{ url: \"http://127.0.0.1:1/absent.gguf\" }}");

            Assert.Equal("MODEL_NOT_FOUND", error.Code);
            Assert.StartsWith("선택한 모델이 설치되어 있지 않습니다.", error.Message, StringComparison.Ordinal);
            Assert.Contains("pluginhost ops unit download", error.Remedy, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }

    [Fact]
    public async Task An_accelerator_the_machine_lacks_is_UNSUPPORTED_ACCEL_unless_CPU_fallback_is_allowed()
    {
        // MLX exists only on macOS on Apple silicon: never on the Linux machines these tests run on.
        var error = await PreflightErrorAsync($"binary: {FakeShimmy}\nmodelsDir: models\naccel: mlx\nallowCpuFallback: false");
        var plan = await Driver.PrepareAsync(Context($"binary: {FakeShimmy}\nmodelsDir: models\naccel: mlx\nallowCpuFallback: true"), CancellationToken.None);

        Assert.Equal("UNSUPPORTED_ACCEL", error.Code);
        Assert.Contains("requested mlx", error.Message, StringComparison.Ordinal);
        Assert.Equal(["--gpu-backend", "cpu"], plan.Arguments.Skip(2).Take(2));
    }

    [Theory]
    [InlineData(FailureKind.ReadinessTimeout, "START_TIMEOUT")]
    [InlineData(FailureKind.LivenessFailed, "HEALTHCHECK_FAILED")]
    [InlineData(FailureKind.PortUnavailable, "PORT_IN_USE")]
    [InlineData(FailureKind.GaveUp, "CRASH_LOOP")]
    public void Failures_map_to_the_seeds_codes_with_the_output_tail(FailureKind kind, string code)
    {
        var output = new[] { new OutputLine(OutputStream.Stderr, "cuda: out of memory", DateTimeOffset.UnixEpoch) };

        var error = Driver.Classify(new UnitFailure(kind, "what happened") { RecentOutput = output });

        Assert.Equal(code, error.Code);
        if (kind != FailureKind.PortUnavailable)
        {
            Assert.Contains("cuda: out of memory", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_second_start_timeout_in_a_row_gives_up_a_first_one_is_restarted()
    {
        var control = new TestUnitControl();
        var context = Context($"binary: {FakeShimmy}", control: control);
        var timeout = new UnitError("START_TIMEOUT", "slow", "wait");

        await Driver.OnStateChangedAsync(context, new UnitStateChange(UnitState.Starting, UnitState.Backoff, "t1", DateTimeOffset.UnixEpoch, timeout), CancellationToken.None);
        var afterFirst = control.Requests.ToArray();
        await Driver.OnStateChangedAsync(context, new UnitStateChange(UnitState.Starting, UnitState.Backoff, "t2", DateTimeOffset.UnixEpoch, timeout), CancellationToken.None);

        Assert.Empty(afterFirst);
        Assert.Equal(["give up: START_TIMEOUT"], control.Requests);
    }

    [Fact]
    public async Task EnsureReady_starts_the_unit_and_answers_its_port_once_ready()
    {
        var control = new TestUnitControl();
        var context = Context($"binary: {FakeShimmy}\nmodelsDir: models", control: control);

        var answer = Driver.InvokeAsync(context, "ensureReady", JsonDocument.Parse("{}").RootElement, CancellationToken.None).AsTask();
        control.MoveTo(UnitState.Starting);
        Assert.False(answer.IsCompleted);
        control.MoveTo(UnitState.Ready);
        var result = await answer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.Success, result.Message);
        Assert.Equal(["start: ensureReady"], control.Requests);
        Assert.Equal(11500, result.Data!.Value.GetProperty("port").GetInt32());
        Assert.Equal("ready", result.Data.Value.GetProperty("state").GetString());
    }
}
