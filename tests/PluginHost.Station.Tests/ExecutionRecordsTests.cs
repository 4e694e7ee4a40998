using PluginHost.Contracts.Testing;
using PluginHost.Plugins.StationBatch;
using PluginHost.Station.Protocol;
using Xunit;

namespace PluginHost.Station.Tests;

public sealed class ExecutionRecordsTests : IDisposable
{
    private readonly TempDirectory _dir = new("records");

    public void Dispose() => _dir.Dispose();

    private static Envelope Event(long seq, string type = MessageTypes.StepComplete) =>
        new(type, "b1") { Execution = "b1-x", Sequence = seq, Body = new() { ["n"] = seq } };

    [Fact]
    public void Only_the_next_number_is_taken_so_resends_and_gaps_are_not()
    {
        var records = new ExecutionRecords(_dir.Path);

        Assert.True(records.TryTake(Event(1)));
        Assert.False(records.TryTake(Event(1)));  // sent again: already taken
        Assert.False(records.TryTake(Event(3)));  // a gap: 2 comes first
        Assert.True(records.TryTake(Event(2)));
        Assert.True(records.TryTake(Event(3)));
        records.Commit();

        Assert.Equal([1L, 2L, 3L], records.Load("b1-x").Select(r => r["seq"]!.GetValue<long>()));
    }

    [Fact]
    public void A_new_master_knows_what_was_taken_from_the_file_alone()
    {
        var first = new ExecutionRecords(_dir.Path);
        first.TryTake(Event(1));
        first.TryTake(Event(2));
        first.Commit();

        var second = new ExecutionRecords(_dir.Path);

        Assert.Equal(2, second.Last("b1-x"));
        Assert.False(second.TryTake(Event(2)));
        Assert.True(second.TryTake(Event(3)));
    }

    [Fact]
    public void A_line_cut_short_by_a_crash_is_not_counted_and_is_replaced_by_the_resend()
    {
        var records = new ExecutionRecords(_dir.Path);
        records.TryTake(Event(1));
        records.Commit();
        File.AppendAllText(Path.Combine(_dir.Path, "b1-x.jsonl"), "{\"seq\":2,\"type\":\"STEP_CO");

        var after = new ExecutionRecords(_dir.Path);

        Assert.Equal(1, after.Last("b1-x"));
        Assert.True(after.TryTake(Event(2)));
        after.Commit();
        Assert.Equal([1L, 2L], after.Load("b1-x").Select(r => r["seq"]!.GetValue<long>()));
        Assert.EndsWith("}\n", File.ReadAllText(Path.Combine(_dir.Path, "b1-x.jsonl")), StringComparison.Ordinal);
    }

    [Fact]
    public void An_execution_left_unfinished_is_ended_as_aborted_once()
    {
        var records = new ExecutionRecords(_dir.Path);
        records.TryTake(Event(1));
        records.Commit();

        Assert.Equal(["b1-x"], records.Unfinished());
        Assert.Equal(2, records.Abort("b1-x", "worker killed"));
        Assert.Empty(records.Unfinished());
        Assert.Equal(MessageTypes.SequenceAborted, records.Load("b1-x")[^1]["type"]!.GetValue<string>());
    }

    [Fact]
    public void What_was_taken_but_not_committed_does_not_count_after_a_failed_commit()
    {
        var records = new ExecutionRecords(_dir.Path);
        records.TryTake(Event(1));
        records.Commit();
        records.TryTake(Event(2));
        Directory.Delete(_dir.Path, recursive: true);
        File.WriteAllText(_dir.Path, "a file where the folder was"); // every write now fails

        Assert.ThrowsAny<IOException>(records.Commit);

        File.Delete(_dir.Path);
        Assert.Equal(0, records.Last("b1-x")); // read again: nothing is on the disk any more
        Assert.True(records.TryTake(Event(1)));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void An_execution_id_that_is_not_a_plain_name_is_refused(string id)
    {
        var records = new ExecutionRecords(_dir.Path);

        Assert.Throws<ArgumentException>(() => records.TryTake(new Envelope(MessageTypes.Log, "b1") { Execution = id, Sequence = 1 }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories));
    }
}
