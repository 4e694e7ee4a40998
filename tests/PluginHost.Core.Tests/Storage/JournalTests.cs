using Microsoft.Data.Sqlite;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Storage;
using Xunit;

namespace PluginHost.Core.Tests.Storage;

public sealed class JournalTests : IDisposable
{
    private readonly TempDirectory _dir = new("journal");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_process_record_round_trips_with_its_output_event_kind()
    {
        var record = Record() with { OutputEventKind = "app-output", OutputEventsPerSecond = 50 };
        using (var journal = new Journal(_dir.Combine("journal.db")))
        {
            journal.RecordProcess(record);
        }

        using var reopened = new Journal(_dir.Combine("journal.db"));
        var read = Assert.Single(reopened.Processes());
        Assert.Equal((record.Unit, record.Pid, record.Fingerprint, "app-output", 50), (read.Unit, read.Pid, read.Fingerprint, read.OutputEventKind, read.OutputEventsPerSecond));
    }

    [Fact]
    public async Task A_process_record_is_on_disk_when_it_returns_with_every_transition_queued_before_it_and_later_transitions_follow()
    {
        var path = _dir.Combine("journal.db");
        using var journal = new Journal(path);
        var at = DateTimeOffset.UnixEpoch;

        journal.RecordTransition("web", "idle", "starting", "autostart", null, at);
        journal.RecordTransition("web", "starting", "starting", "spawning", null, at);
        journal.RecordProcess(Record() with { Unit = "web" });
        var (processesThen, transitionsThen) = (Rows(path, "SELECT unit FROM processes"), Rows(path, "SELECT reason FROM transitions ORDER BY id"));
        journal.RecordTransition("web", "starting", "ready", "process started", 4242, at);
        journal.ForgetProcess("web");
        await Eventually.TrueAsync(() => Rows(path, "SELECT unit FROM processes").Count == 0, TimeSpan.FromSeconds(10), "the forget to be written behind");

        Assert.Equal(["web"], processesThen);
        Assert.Equal(["autostart", "spawning"], transitionsThen);
        Assert.Equal(["autostart", "spawning", "process started"], Rows(path, "SELECT reason FROM transitions ORDER BY id"));
        Assert.Equal(["autostart", "spawning", "process started"], journal.Transitions("web").Select(t => t.Reason));
    }

    /// <summary>What another reader of the file sees now (a host that took over after a crash would see the same).</summary>
    private static List<string> Rows(string path, string sql)
    {
        using var reader = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        reader.Open();
        using var command = reader.CreateCommand();
        command.CommandText = sql;
        using var rows = command.ExecuteReader();
        var result = new List<string>();
        while (rows.Read())
        {
            result.Add(rows.GetString(0));
        }

        return result;
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_naming_the_file_and_the_reason()
    {
        var path = _dir.Combine("journal.db");
        File.WriteAllText(path, new string('x', 4096));

        var error = Assert.Throws<StorageException>(() => new Journal(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a database", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<IOException>(error); // the host reports it as an unusable data folder
    }

    [Fact]
    public void A_journal_written_by_an_earlier_host_is_upgraded_and_its_processes_still_read()
    {
        var path = _dir.Combine("journal.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE processes (unit TEXT PRIMARY KEY, pid INTEGER NOT NULL, session INTEGER NOT NULL, start_ticks INTEGER NOT NULL,
                    holder_pid INTEGER NOT NULL, holder_start_ticks INTEGER NOT NULL, started_at TEXT NOT NULL, ports TEXT NOT NULL, fingerprint TEXT NOT NULL);
                INSERT INTO processes VALUES ('old', 4242, 4242, 99, 4243, 100, '2026-11-20T10:00:00.0000000+00:00', '{"http":8080}', 'f1');
                """;
            command.ExecuteNonQuery();
        }

        using var journal = new Journal(path);
        var read = Assert.Single(journal.Processes());
        journal.RecordProcess(Record());

        Assert.Equal(("old", 4242, 8080, (string?)null, 0), (read.Unit, read.Pid, read.Ports["http"], read.OutputEventKind, read.OutputEventsPerSecond));
        Assert.Equal(2, journal.Processes().Count);
    }

    [Fact]
    public void A_journal_holding_a_manifest_text_as_fingerprint_keeps_only_its_hash_and_none_of_the_text()
    {
        var path = _dir.Combine("journal.db");
        const string Secret = "s3cret-api-key-4242";
        var text = $"{{\"env\":{{\"API_KEY\":\"{Secret}\",}},\"kind\":\"process\",}}";
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE processes (unit TEXT PRIMARY KEY, pid INTEGER NOT NULL, session INTEGER NOT NULL, start_ticks INTEGER NOT NULL,
                    holder_pid INTEGER NOT NULL, holder_start_ticks INTEGER NOT NULL, started_at TEXT NOT NULL, ports TEXT NOT NULL, fingerprint TEXT NOT NULL);
                INSERT INTO processes VALUES ('old', 4242, 4242, 99, 4243, 100, '2026-11-20T10:00:00.0000000+00:00', '{}', $text);
                """;
            command.Parameters.AddWithValue("$text", text);
            command.ExecuteNonQuery();
        }

        using (var journal = new Journal(path))
        {
            Assert.Equal(PluginHost.Core.Manifests.Fingerprint.OfCanonicalText(text), Assert.Single(journal.Processes()).Fingerprint);
        }

        foreach (var file in Directory.GetFiles(_dir.Path))
        {
            Assert.DoesNotContain(Secret, System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file)), StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    private static ProcessRecord Record() => new("web", 100, 100, 12345, 101, 12346, DateTimeOffset.Parse("2026-11-27T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        new Dictionary<string, int> { ["http"] = 8080 }, PluginHost.Core.Manifests.Fingerprint.OfCanonicalText("{}"));
}
