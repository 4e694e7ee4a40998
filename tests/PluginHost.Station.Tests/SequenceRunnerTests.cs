using System.Text.Json.Nodes;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Testing;
using PluginHost.Station.Protocol;
using PluginHost.Station.Worker;
using PluginHost.Station.Worker.Drivers;
using PluginHost.Station.Worker.Sequences;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The sequence engine with the simulated instruments, loaded as the worker loads them (McMaster load contexts).</summary>
public sealed class SequenceRunnerTests : IAsyncLifetime
{
    private static readonly HardwareBinding[] Bindings =
    [
        new("psu", "sim-psu", "127.0.0.1", 0, new Dictionary<string, string> { ["seed"] = "7" }),
        new("dmm", "sim-dmm", "127.0.0.1", 0, new Dictionary<string, string> { ["seed"] = "7", ["rails"] = "3V3=3.30,5V0=5.19,1V8=1.93" }),
    ];

    private readonly TempDirectory _dir = new("runner");
    private readonly List<(string Type, JsonObject Body)> _events = [];
    private DriverCatalog _catalog = null!;
    private SequenceRunner? _runner;

    public Task InitializeAsync()
    {
        _catalog = DriverCatalog.Load(StationPaths.Drivers, Bindings);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _catalog.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task The_sample_runs_setup_main_and_teardown_with_a_marginal_pass_and_a_repeated_failure()
    {
        var result = await RunAsync(StationPaths.SamplePackage, Bindings);

        Assert.Equal((Outcome.Fail, false, 9), (result.Verdict, result.Stopped, result.Steps));
        var completed = Completed();
        Assert.Equal(["identify_psu", "power_on", "input_voltage", "settle", "rail_3v3", "rail_5v0", "rail_1v8", "psu_errors", "power_off"], completed.Select(c => c["step"]!.GetValue<string>()));
        Assert.Equal(("PASS", true), Measurement(completed, "rail_5v0"));
        Assert.Equal(("PASS", false), Measurement(completed, "rail_3v3"));
        var rail18 = completed.Single(c => c["step"]!.GetValue<string>() == "rail_1v8");
        Assert.Equal(("FAIL", 3), (rail18["outcome"]!.GetValue<string>(), rail18["attempts"]!.GetValue<int>()));
        Assert.Equal("V", rail18["measurement"]!["units"]!.GetValue<string>());
        Assert.Equal(3, _events.Count(e => e.Type == MessageTypes.StepStart && e.Body["step"]!.GetValue<string>() == "rail_1v8"));
    }

    [Fact]
    public async Task The_same_seed_reads_the_same_values()
    {
        await RunAsync(StationPaths.SamplePackage, Bindings);
        var first = Completed().Select(c => c["measurement"]?["value"]?.ToJsonString()).ToArray();
        _events.Clear();

        await using var again = DriverCatalog.Load(StationPaths.Drivers, Bindings);
        await RunAsync(StationPaths.SamplePackage, Bindings, again);

        Assert.Equal(first, Completed().Select(c => c["measurement"]?["value"]?.ToJsonString()));
    }

    [Fact]
    public async Task A_stop_takes_effect_at_the_next_step_boundary_and_teardown_still_runs()
    {
        _dir.Write("sequence.yaml", """
            name: slow
            hardware: { psu: {} }
            main:
              - { name: w1, wait: 200ms }
              - { name: w2, wait: 200ms }
              - { name: w3, wait: 200ms }
            teardown:
              - name: power_off
                write: { slot: psu, command: "OUTP OFF" }
            """);
        using var stop = new CancellationTokenSource();

        var run = RunAsync(_dir.Path, Bindings, stop: stop.Token);
        await Eventually.TrueAsync(() => Completed().Count == 1, TimeSpan.FromSeconds(10), "the first step");
        await stop.CancelAsync();
        var result = await run;

        Assert.True(result.Stopped);
        Assert.Equal(["w1", "w2", "power_off"], Completed().Select(c => c["step"]!.GetValue<string>()));
        Assert.Equal(1, _runner!.Progress); // a run that has ended is done, though w3 never ran (the panel showed 0.75)
    }

    [Fact]
    public async Task An_instrument_that_stops_answering_is_a_coded_step_error_and_teardown_still_runs()
    {
        _dir.Write("sequence.yaml", """
            name: hang
            hardware: { dmm: {}, psu: {} }
            main:
              - name: read
                timeout: 300ms
                onFail: stop
                measure: { slot: dmm, command: "MEAS:VOLT:DC? 3V3", validator: { in_range: { min: 0 } } }
              - { name: never, wait: 10ms }
            teardown:
              - name: power_off
                write: { slot: psu, command: "OUTP OFF" }
            """);
        HardwareBinding[] hanging = [Bindings[0], Bindings[1] with { Options = new Dictionary<string, string> { ["fault"] = "timeout" } }];

        var result = await RunAsync(_dir.Path, hanging);

        Assert.Equal(Outcome.Error, result.Verdict);
        var read = Completed()[0];
        Assert.Equal(("ERROR", "STEP_TIMEOUT"), (read["outcome"]!.GetValue<string>(), read["error"]!["code"]!.GetValue<string>()));
        Assert.Equal(["read", "power_off"], Completed().Select(c => c["step"]!.GetValue<string>()));
        Assert.Equal(1, _runner!.Progress);
    }

    [Fact]
    public async Task An_unknown_command_is_the_instruments_own_error_code()
    {
        _dir.Write("sequence.yaml", """
            name: typo
            hardware: { dmm: {} }
            main:
              - name: read
                query: { slot: dmm, command: "MEAS:VOLTS?" }
            """);

        var result = await RunAsync(_dir.Path, Bindings);

        Assert.Equal(Outcome.Error, result.Verdict);
        Assert.Equal("SCPI_ERROR -113", Completed()[0]["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public void A_binding_to_a_driver_no_plugin_provides_names_the_slot()
    {
        var error = Assert.Throws<WorkerException>(() => DriverCatalog.Load(StationPaths.Drivers, [new HardwareBinding("scope", "tek-mso", "10.0.0.9", 4000, new Dictionary<string, string>())]));

        Assert.Equal("DRIVER_NOT_FOUND", error.Code);
        Assert.StartsWith("slot scope: no equipment driver \"tek-mso\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("sim-dmm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_packages_own_csharp_steps_are_found_in_its_assembly_and_measure_pass_fail_skip_and_err()
    {
        var result = await RunAsync(CSharpPackage, Bindings);

        Assert.Equal(Outcome.Error, result.Verdict);
        var completed = Completed();
        Assert.Equal(["PASS", "FAIL", "SKIPPED", "ERROR"], completed.Select(c => c["outcome"]!.GetValue<string>()));
        var ripple = completed[0]["measurement"]!;
        Assert.Equal(("ripple_mv", "mV"), (ripple["name"]!.GetValue<string>(), ripple["units"]!.GetValue<string>()));
        Assert.InRange(ripple["value"]!.GetValue<double>(), 0, 10);
        var relay = completed[3]["error"]!;
        Assert.Equal("EQUIPMENT_REFUSED", relay["code"]!.GetValue<string>());
        Assert.Contains("after 5 reads", relay["message"]!.GetValue<string>(), StringComparison.Ordinal); // one instance per execution, state kept across its steps
        Assert.Contains(_events, e => e.Type == MessageTypes.Log && e.Body["message"]!.GetValue<string>() == "ripple: 5 samples");
    }

    [Fact]
    public async Task A_csharp_step_sees_the_runs_parameters()
    {
        await RunAsync(CSharpPackage, Bindings, parameters: new JsonObject { ["dut_serial"] = "SN-0042" });

        Assert.Equal("PASS", Completed()[1]["outcome"]!.GetValue<string>());
    }

    [Fact]
    public void A_step_naming_code_the_assembly_lacks_is_refused_at_its_position_with_what_there_is()
    {
        RepositoryLayout.CopyDirectory(CSharpPackage, _dir.Path);
        var yaml = _dir.Combine("sequence.yaml");
        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("step: optional", "step: optinal", StringComparison.Ordinal));
        var (sequence, problems) = SequencePackage.Read(_dir.Path);
        Assert.Empty(problems);

        var (code, codeProblems) = PackageCode.Load(sequence!);

        Assert.Null(code);
        var problem = Assert.Single(codeProblems);
        Assert.StartsWith($"{yaml}:13:5: step \"optional\" runs [Step(\"optinal\")]", problem, StringComparison.Ordinal);
        Assert.Contains("(it has broken_instrument, optional, ripple, serial_known)", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("step", 3)]
    [InlineData("sequence", 1)]
    public async Task A_slot_connects_once_per_execution_or_once_for_each_step_that_uses_it(string connect, int connections)
    {
        var policy = connect == "step" ? ConnectionPolicy.Step : ConnectionPolicy.Sequence;
        await using var instrument = new FakeScpiInstrument();
        HardwareBinding[] bindings = [new("meter", "scpi-tcp", "127.0.0.1", instrument.Port, new Dictionary<string, string>()) { Connect = policy }];
        await using var scpi = DriverCatalog.Load(StationPaths.Drivers, bindings);
        _dir.Write("sequence.yaml", """
            name: shared-meter
            hardware: { meter: {} }
            main:
              - name: v1
                measure: { slot: meter, command: "MEAS:VOLT?", validator: { in_range: { min: 1, max: 2 } } }
              - { name: pause, wait: 1ms }
              - name: v2
                measure: { slot: meter, command: "MEAS:VOLT?", validator: { in_range: { min: 1, max: 2 } } }
              - name: set
                write: { slot: meter, command: "VOLT 3" }
            """);

        var result = await RunAsync(_dir.Path, bindings, scpi);

        Assert.Equal(Outcome.Pass, result.Verdict);
        Assert.Equal(connections, instrument.Connections);
        if (policy == ConnectionPolicy.Step)
        {
            await Eventually.TrueAsync(() => instrument.Open == 0, TimeSpan.FromSeconds(10), "every step's connection closed when the step ended");
        }
        else
        {
            Assert.Equal(1, instrument.Open); // still open: the worker closes it after teardown
        }
    }

    [Fact]
    public async Task An_instrument_that_drops_the_connection_fails_that_step_with_its_code_and_remedy_and_the_next_step_connects_again()
    {
        HardwareBinding[] bindings = [Bindings[1] with { Options = new Dictionary<string, string> { ["fault"] = "disconnect-after=2" } }];
        _dir.Write("sequence.yaml", """
            name: flaky-cable
            hardware: { dmm: {} }
            main:
              - { name: r1, measure: { slot: dmm, command: "MEAS:VOLT:DC? 3V3", validator: { in_range: { min: 3, max: 3.6 } } } }
              - { name: r2, measure: { slot: dmm, command: "MEAS:VOLT:DC? 3V3", validator: { in_range: { min: 3, max: 3.6 } } } }
              - { name: r3, measure: { slot: dmm, command: "MEAS:VOLT:DC? 3V3", validator: { in_range: { min: 3, max: 3.6 } } } }
              - { name: r4, measure: { slot: dmm, command: "MEAS:VOLT:DC? 3V3", validator: { in_range: { min: 3, max: 3.6 } } } }
            """);

        var result = await RunAsync(_dir.Path, bindings);

        Assert.Equal(Outcome.Error, result.Verdict);
        Assert.Equal(["PASS", "PASS", "ERROR", "PASS"], Completed().Select(c => c["outcome"]!.GetValue<string>()));
        var dropped = Completed()[2]["error"]!;
        Assert.Equal(EquipmentCodes.Disconnected, dropped["code"]!.GetValue<string>());
        Assert.StartsWith("slot dmm: the simulated DMM dropped the connection", dropped["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(EquipmentCodes.RemedyFor(EquipmentCodes.Disconnected), dropped["remedy"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_instruments_own_error_reaches_the_step_with_the_remedy_for_its_class()
    {
        HardwareBinding[] bindings = [Bindings[1] with { Options = new Dictionary<string, string> { ["fault"] = "error-after=1" } }];
        _dir.Write("sequence.yaml", """
            name: failing-dmm
            hardware: { dmm: {} }
            main:
              - { name: ok, query: { slot: dmm, command: "*IDN?" } }
              - { name: broken, query: { slot: dmm, command: "*IDN?" } }
            """);

        await RunAsync(_dir.Path, bindings);

        var error = Completed()[1]["error"]!;
        Assert.Equal("SCPI_ERROR -310", error["code"]!.GetValue<string>());
        Assert.Contains("fault of its own", error["remedy"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string CSharpPackage { get; } = Path.Combine(RepositoryLayout.Root, "artifacts", "test-packages", "csharp-steps");

    private async Task<SequenceResult> RunAsync(string package, HardwareBinding[] bindings, DriverCatalog? catalog = null, CancellationToken stop = default, JsonObject? parameters = null)
    {
        var (sequence, problems) = SequencePackage.Read(package);
        Assert.Empty(problems);
        var (code, codeProblems) = PackageCode.Load(sequence!);
        Assert.Empty(codeProblems);
        await using var loaded = code;
        var (values, parameterProblems) = ParameterBinder.Bind(sequence!, [], parameters);
        Assert.Empty(parameterProblems);
        var drivers = new Dictionary<string, Instrument>();
        foreach (var slot in sequence!.Slots)
        {
            var instrument = (catalog ?? _catalog).Open(bindings.Single(b => b.Slot == slot));
            if (instrument.Binding.Connect == ConnectionPolicy.Sequence)
            {
                await instrument.OpenAsync(CancellationToken.None);
            }

            drivers[slot] = instrument;
        }

        void Publish(string type, JsonObject body)
        {
            lock (_events)
            {
                _events.Add((type, body));
            }
        }

        _runner = new SequenceRunner(sequence, drivers, values, Publish, TimeProvider.System, code);
        return await _runner.RunAsync(stop);
    }

    private List<JsonObject> Completed()
    {
        lock (_events)
        {
            return [.. _events.Where(e => e.Type == MessageTypes.StepComplete).Select(e => e.Body)];
        }
    }

    private static (string, bool) Measurement(List<JsonObject> completed, string step)
    {
        var c = completed.Single(c => c["step"]!.GetValue<string>() == step);
        return (c["outcome"]!.GetValue<string>(), c["measurement"]!["marginal"]!.GetValue<bool>());
    }
}
