using PluginHost.Contracts.Units;
using PluginHost.Core.Supervision;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class LifecycleTests
{
    /// <summary>The table as docs/supervision.md states it: row = from, X = allowed to.</summary>
    private const string Table = """
                    idle starting ready backoff restarting stopping stopped failed
        idle         .     X       .     .        .          .        X       .
        starting     .     .       X     X        X          X        X       X
        ready        .     .       .     X        X          X        X       X
        backoff      .     X       .     .        .          .        X       X
        restarting   .     X       .     .        .          X        X       X
        stopping     .     .       .     X        .          .        X       X
        stopped      .     X       .     .        .          .        .       .
        failed       .     X       .     .        .          .        X       .
        """;

    public static TheoryData<UnitState, UnitState, bool> EveryPair()
    {
        var rows = Table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var columns = rows[0];
        var data = new TheoryData<UnitState, UnitState, bool>();
        foreach (var row in rows.Skip(1))
        {
            for (var i = 0; i < columns.Length; i++)
            {
                data.Add(Enum.Parse<UnitState>(row[0], true), Enum.Parse<UnitState>(columns[i], true), row[i + 1] == "X");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Every_transition_is_allowed_or_refused_exactly_as_documented(UnitState from, UnitState to, bool allowed)
    {
        Assert.Equal(allowed, Lifecycle.CanMove(from, to));
        if (allowed)
        {
            Lifecycle.Check(from, to);
        }
        else
        {
            Assert.Contains($"{from} -> {to}", Assert.Throws<InvalidOperationException>(() => Lifecycle.Check(from, to)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_table_covers_every_state()
    {
        Assert.Equal(Enum.GetValues<UnitState>().Length * Enum.GetValues<UnitState>().Length, EveryPair().Count);
    }
}
