using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Api;
using PluginHost.Contracts.Events;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Events;
using PluginHost.Core.Storage;
using Xunit;

namespace PluginHost.Tests.Api;

/// <summary>
/// The SSE event stream over real HTTP (Kestrel on loopback) with the real bus and journal:
/// a client that stops reading never slows publishing and is told exactly what it missed;
/// Last-Event-ID resumes without loss or duplicates, also across a host restart.
/// </summary>
public sealed class EventStreamTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new("sse");
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private EventBus _bus = null!;
    private EventJournal _journal = null!;
    private ApiServer _server = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _bus = new EventBus(recentCapacity: 100);
        _journal = new EventJournal(_dir.Combine("data", "events.db"), _bus);
        await StartServerAsync();
    }

    private async Task StartServerAsync()
    {
        _port = HostProcess.FreePort();
        // The host's own server and routes, with just this one route.
        var server = _server = new ApiServer("127.0.0.1", _port, HostApi.MaxRequestBodyBytes, NullLoggerFactory.Instance);
        var routes = new ApiRoutes();
        var bus = _bus;
        var journal = _journal;
        routes.MapGet("/api/events", (http, _) => ApiReply.Streamed(() =>
            EventStream.ServeAsync(http, bus, journal, ApiQuery.String(http, "unit"), EventStream.ResumePoint(http.Request), server.Stopping)));
        await server.StartAsync(routes.DispatchAsync, CancellationToken.None);
        _http.BaseAddress ??= new Uri($"http://127.0.0.1:{_port}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _journal.DisposeAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    private static HostEvent Event(string unit, int n, int padding = 0) =>
        new("tick", unit, null, DateTimeOffset.UnixEpoch, JsonSerializer.SerializeToElement(new { n, pad = new string('x', padding) }));

    [Fact]
    public async Task A_client_that_stops_reading_never_slows_publishing_and_is_told_exactly_how_many_events_it_missed()
    {
        const int Published = 100_000;
        // HttpClient reads the body only when asked: until then the socket's buffers fill and the server's writes stall.
        using var client = await OpenAsync("/api/events?unit=slow");
        await Eventually.TrueAsync(() => _bus.SubscriberCount == 2, Deadline, "the client's subscription (besides the journal's)");

        // ~50 MB for this client, more than every buffer between the server and the socket holds,
        // while the client reads nothing; plus events of another unit its filter must skip.
        for (var i = 1; i <= Published; i++)
        {
            _bus.Publish(Event("slow", i, padding: 400));
            if (i % 10 == 0)
            {
                _bus.Publish(Event("other", i));
            }
        }

        var lastId = _bus.LastId - 1; // the last "slow" event: the final "other" one follows it
        var received = new List<long>();
        long missed = 0;
        var gaps = 0;
        using var deadline = new CancellationTokenSource(Deadline);
        while (received.LastOrDefault() < lastId && await client.Reader.NextAsync(deadline.Token) is { } message)
        {
            if (message.Type == "gap")
            {
                gaps++;
                missed += message.Json.GetProperty("missed").GetInt64();
                Assert.True(message.Json.GetProperty("exact").GetBoolean());
                continue;
            }

            Assert.Equal("slow", message.Json.GetProperty("unit").GetString());
            received.Add(long.Parse(message.Id!, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.True(gaps > 0, "the client fell behind, so it must have been told");
        Assert.True(received.Count < Published, "events were dropped for this client");
        Assert.Equal(Published, received.Count + missed);
        Assert.Equal(received.Order(), received);
        Assert.Equal(received.Count, received.Distinct().Count());
    }

    [Fact]
    public async Task Reconnecting_with_Last_Event_ID_replays_what_was_missed_without_duplicates_then_goes_live()
    {
        for (var i = 1; i <= 10; i++)
        {
            _bus.Publish(Event("u", i));
        }

        long seen;
        using (var first = await OpenAsync("/api/events?since=0"))
        {
            var three = await ReadAsync(first.Reader, 3);
            seen = long.Parse(three[^1].Id!, System.Globalization.CultureInfo.InvariantCulture);
        }

        for (var i = 11; i <= 20; i++)
        {
            _bus.Publish(Event("u", i));
        }

        using var resumed = await OpenAsync("/api/events", lastEventId: seen);
        var replayed = await ReadAsync(resumed.Reader, 17);
        _bus.Publish(Event("u", 21));
        var live = await ReadAsync(resumed.Reader, 1);

        Assert.Equal(3, seen);
        Assert.Equal(Enumerable.Range(4, 18).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            replayed.Concat(live).Select(m => m.Id));
        Assert.Equal(Enumerable.Range(4, 18), replayed.Concat(live).Select(m => m.Json.GetProperty("payload").GetProperty("n").GetInt32()));
    }

    [Fact]
    public async Task After_a_host_restart_ids_continue_and_a_client_resumes_from_the_journal()
    {
        for (var i = 1; i <= 500; i++)
        {
            _bus.Publish(Event("u", i));
        }

        await _journal.FlushAsync(_bus.LastId, CancellationToken.None);
        await _server.DisposeAsync();
        await _journal.DisposeAsync();

        // A new host process: a new bus (empty ring) over the same journal file.
        _bus = new EventBus(recentCapacity: 100);
        _journal = new EventJournal(_dir.Combine("data", "events.db"), _bus);
        await StartServerAsync();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        _bus.Publish(Event("u", 501));

        using var resumed = await OpenAsync("/api/events", lastEventId: 250);
        var messages = await ReadAsync(resumed.Reader, 251);

        Assert.Equal(Enumerable.Range(251, 251), messages.Select(m => m.Json.GetProperty("payload").GetProperty("n").GetInt32()));
        Assert.Equal(Enumerable.Range(251, 251).Select(i => (long)i), messages.Select(m => m.Json.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Resuming_from_before_what_is_kept_says_so_with_an_expired_gap()
    {
        await _server.DisposeAsync();
        await _journal.DisposeAsync();
        _bus = new EventBus(recentCapacity: 100);
        _journal = new EventJournal(_dir.Combine("data2", "events.db"), _bus);
        await StartServerAsync();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        for (var i = 1; i <= 300; i++)
        {
            _bus.Publish(Event("u", i));
        }

        await _journal.FlushAsync(_bus.LastId, CancellationToken.None);
        using (var trim = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.Combine("data2", "events.db")};Pooling=false"))
        {
            // Stand-in for retention: the journal no longer holds the first 200.
            trim.Open();
            using var command = trim.CreateCommand();
            command.CommandText = "DELETE FROM events WHERE id <= 200";
            command.ExecuteNonQuery();
        }

        using var resumed = await OpenAsync("/api/events", lastEventId: 10);
        var messages = await ReadAsync(resumed.Reader, 101);

        Assert.Equal("gap", messages[0].Type);
        Assert.Equal("expired", messages[0].Json.GetProperty("reason").GetString());
        Assert.Equal(190, messages[0].Json.GetProperty("missed").GetInt64());
        Assert.Equal(Enumerable.Range(201, 100), messages.Skip(1).Select(m => m.Json.GetProperty("payload").GetProperty("n").GetInt32()));
    }

    [Fact]
    public async Task A_hole_in_the_journal_is_an_exact_gap_where_it_is()
    {
        await _server.DisposeAsync();
        await _journal.DisposeAsync();
        _bus = new EventBus(recentCapacity: 10);
        _journal = new EventJournal(_dir.Combine("data3", "events.db"), _bus);
        await StartServerAsync();
        _http.BaseAddress = new Uri($"http://127.0.0.1:{_port}");
        for (var i = 1; i <= 100; i++)
        {
            _bus.Publish(Event("u", i));
        }

        await _journal.FlushAsync(_bus.LastId, CancellationToken.None);
        using (var hole = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.Combine("data3", "events.db")};Pooling=false"))
        {
            // Stand-in for events the journal never got (its queue overflowed while the disk was full).
            hole.Open();
            using var command = hole.CreateCommand();
            command.CommandText = "DELETE FROM events WHERE id BETWEEN 41 AND 47";
            command.ExecuteNonQuery();
        }

        using var resumed = await OpenAsync("/api/events", lastEventId: 30);
        var messages = await ReadAsync(resumed.Reader, 64);

        Assert.Equal(Enumerable.Range(31, 10), messages.Take(10).Select(m => m.Json.GetProperty("payload").GetProperty("n").GetInt32()));
        Assert.Equal("gap", messages[10].Type);
        Assert.Equal(("not-journaled", 7L, 40L, 48L), (messages[10].Json.GetProperty("reason").GetString(), messages[10].Json.GetProperty("missed").GetInt64(),
            messages[10].Json.GetProperty("afterId").GetInt64(), messages[10].Json.GetProperty("beforeId").GetInt64()));
        Assert.Equal(Enumerable.Range(48, 53), messages.Skip(11).Select(m => m.Json.GetProperty("payload").GetProperty("n").GetInt32()));
    }

    private async Task<OpenStream> OpenAsync(string path, long? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new OpenStream(response, new SseReader(await response.Content.ReadAsStreamAsync()));
    }

    private static async Task<List<SseMessage>> ReadAsync(SseReader reader, int count)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var list = new List<SseMessage>();
        while (list.Count < count)
        {
            list.Add(await reader.NextAsync(deadline.Token) ?? throw new Xunit.Sdk.XunitException($"the stream ended after {list.Count} events"));
        }

        return list;
    }

    private sealed record OpenStream(HttpResponseMessage Response, SseReader Reader) : IDisposable
    {
        public void Dispose() => Response.Dispose();
    }
}
