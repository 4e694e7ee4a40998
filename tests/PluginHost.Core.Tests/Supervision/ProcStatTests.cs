using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Supervision;

public sealed class ProcStatTests
{
    [Fact]
    public void The_host_reads_its_own_stat()
    {
        var self = ProcStat.Read(Environment.ProcessId);

        Assert.NotNull(self);
        Assert.Equal(Environment.ProcessId, self.Pid);
        Assert.True(self.StartTimeTicks > 0);
        Assert.True(self.RssPages > 0);
    }

    [Fact]
    public void A_command_name_with_spaces_and_parentheses_does_not_shift_the_fields()
    {
        var text = "42 (a (b) c) S 1 42 42 0 -1 4194560 10 0 0 0 7 3 0 0 20 0 1 0 123456 1000 250 18446744073709551615 1 1 0"u8;

        var stat = ProcStat.Parse(42, text)!;

        Assert.Equal(('S', 1, 42, 42), (stat.State, stat.ParentPid, stat.ProcessGroup, stat.Session));
        Assert.Equal((7L, 3L, 123456L, 250L), (stat.UserTicks, stat.SystemTicks, stat.StartTimeTicks, stat.RssPages));
    }

    [Fact]
    public void A_missing_process_reads_as_null()
    {
        Assert.Null(ProcStat.Read(int.MaxValue));
    }
}
