using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>
/// The protocol is language-neutral: a master written with pyzmq (libzmq, not NetMQ) drives a real
/// worker process through a whole run (Conformance/master.py).
/// </summary>
public sealed class WorkerConformanceTests : IDisposable
{
    private readonly TempDirectory _dir = new("conformance");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_pyzmq_master_drives_a_real_worker_through_a_run_with_resends_errors_and_shutdown()
    {
        Prerequisite.PythonWithZmq();
        var port = StationPaths.FreePort();
        var config = _dir.Write("batch.json", new JsonObject
        {
            ["batch"] = "py1",
            ["master"] = $"tcp://127.0.0.1:{port}",
            ["package"] = StationPaths.SamplePackage,
            ["drivers"] = StationPaths.Drivers,
            ["hardware"] = new JsonObject
            {
                ["psu"] = new JsonObject { ["driver"] = "sim-psu", ["options"] = new JsonObject { ["seed"] = "7" } },
                ["dmm"] = new JsonObject { ["driver"] = "sim-dmm", ["options"] = new JsonObject { ["seed"] = "7", ["rails"] = "3V3=3.30,5V0=5.19,1V8=1.93" } },
            },
            ["heartbeatMs"] = 300,
        }.ToJsonString());

        using var master = Start("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "Conformance", "master.py"), port.ToString(CultureInfo.InvariantCulture), "py1");
        using var worker = Start(StationPaths.Dotnet, StationPaths.Worker, "--config", config);
        try
        {
            var output = master.StandardOutput.ReadToEndAsync();
            var errors = master.StandardError.ReadToEndAsync();
            await master.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(master.ExitCode == 0, $"master.py failed: {await errors}\nworker: {await worker.StandardOutput.ReadToEndAsync()}");
            var report = JsonNode.Parse(await output)!.AsObject();

            Assert.Equal(
                new JsonObject { ["not_json"] = "MALFORMED_JSON", ["not_object"] = "MALFORMED_MESSAGE", ["old_version"] = "UNSUPPORTED_VERSION", ["unknown_type"] = "UNKNOWN_TYPE", ["no_id"] = "MALFORMED_MESSAGE" }.ToJsonString(),
                report["errors"]!.ToJsonString());
            Assert.Equal(("idle", true, "SEQUENCE_RUNNING", true), (report["status_before"]!.GetValue<string>(), report["started"]!.GetValue<bool>(), report["second_start"]!.GetValue<string>(), report["shutdown"]!.GetValue<bool>()));
            var events = report["events"]!.AsArray().Select(e => e!.AsObject()).ToArray();
            Assert.Equal(Enumerable.Range(1, events.Length).Select(i => (long)i), events.Select(e => e["seq"]!.GetValue<long>()));
            Assert.Equal("SEQUENCE_COMPLETE", events[^1]["type"]!.GetValue<string>());
            Assert.Equal("FAIL", events[^1]["body"]!["verdict"]!.GetValue<string>());
            Assert.Equal(9, events.Count(e => e["type"]!.GetValue<string>() == "STEP_COMPLETE"));
            Assert.True(report["resent"]!.GetValue<int>() > 0, "nothing was sent again while the master did not acknowledge");
            Assert.Equal(0, report["pending_after_ack"]!.GetValue<int>());

            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, worker.ExitCode);
        }
        finally
        {
            Kill(master);
            Kill(worker);
        }
    }

    private static Process Start(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

}
