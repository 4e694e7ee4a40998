using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Testing;
using PluginHost.Plugins.StationBatch;
using PluginHost.Station.Protocol;
using Xunit;

namespace PluginHost.Station.Tests;

/// <summary>The master's side against a worker written with pyzmq (Conformance/worker.py): order, duplicates, garbage, strangers.</summary>
public sealed class MasterConformanceTests : IDisposable
{
    private readonly TempDirectory _dir = new("master");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_pyzmq_worker_sending_out_of_order_twice_and_with_garbage_gets_each_event_taken_once_in_order()
    {
        Prerequisite.PythonWithZmq();
        const int Events = 25;
        var published = new RecordingPublisher();
        var port = StationPaths.FreePort();
        await using var master = new BatchMaster("py2", "s3ss10n", port, _dir.Combine("results.db"), "st1", _dir.Path, published, NullLogger.Instance, TimeProvider.System);
        await master.Bound.WaitAsync(TimeSpan.FromSeconds(10));

        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Conformance", "worker.py"), master.Endpoint, "py2", "s3ss10n", Events.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        using var worker = Process.Start(info)!;
        try
        {
            await Eventually.TrueAsync(() => master.LastHeard is not null, TimeSpan.FromSeconds(30), "the pyzmq worker's first heartbeat");
            var status = await master.SendAsync(MessageTypes.GetStatus, null, CancellationToken.None);
            var started = await master.SendAsync(MessageTypes.StartSequence, new JsonObject { ["params"] = new JsonObject() }, CancellationToken.None);
            var output = await worker.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(90));
            await worker.WaitForExitAsync();
            Assert.True(worker.ExitCode == 0, await worker.StandardError.ReadToEndAsync());
            var report = JsonNode.Parse(output)!.AsObject();

            Assert.Equal((true, "idle"), (status.Ok == true, status.Body!["state"]!.GetValue<string>()));
            Assert.Equal("py-exec-1", started.Body!["execution"]!.GetValue<string>());
            Assert.Equal(Events, report["acked"]!.GetValue<int>());
            Assert.Equal(1, report["hello"]!.GetValue<int>());
            Assert.Contains("MALFORMED_JSON", report["errors"]!.AsArray().Select(e => e!.GetValue<string>()));
            Assert.Equal("WRONG_SESSION", report["stray"]!.GetValue<string>());

            var records = master.Records.Load("py-exec-1");
            Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), records.Select(r => r["seq"]!.GetValue<long>()));
            Assert.DoesNotContain(records, r => r["body"]?["step"]?.GetValue<string>() == "forged");
            Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), published.Events.Select(e => e.Payload["seq"]!.GetValue<long>()));
            Assert.Equal("station_sequence_complete", published.Events[^1].Kind);
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill();
                await worker.WaitForExitAsync();
            }
        }
    }


    private sealed class RecordingPublisher : IEventPublisher
    {
        private readonly List<(string Kind, JsonObject Payload)> _events = [];

        public IReadOnlyList<(string Kind, JsonObject Payload)> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public void Publish(string kind, JsonObject? payload = null)
        {
            lock (_events)
            {
                _events.Add((kind, payload ?? []));
            }
        }
    }
}
