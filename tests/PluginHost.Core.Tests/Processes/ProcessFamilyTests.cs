using System.Diagnostics;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Processes;
using Xunit;

namespace PluginHost.Core.Tests.Processes;

/// <summary>
/// <see cref="ProcessFamily.Members"/> reads the stat of members only (getsid/getpgid for everyone,
/// /proc/PID/task/TID/children for descendants); it must find exactly what a read of all of /proc finds.
/// </summary>
public sealed class ProcessFamilyTests : IDisposable
{
    private readonly Process _leader;
    private readonly ProcessFamily _family;

    public ProcessFamilyTests()
    {
        // A session with: a job in a process group of its own (set -m), a descendant that leaves the
        // session (setsid, which stays as its parent with -w) with a child of its own, and a subshell.
        _leader = Process.Start(new ProcessStartInfo("setsid", ["/bin/bash", "-c",
            "set -m; sleep 301 & setsid -w /bin/bash -c 'sleep 302 & exec sleep 303' & (sleep 304) & exec sleep 305"]))!;
        _family = new ProcessFamily(_leader.Id);
    }

    public void Dispose()
    {
        ProcessGroupStopper.Signal(_family, LibC.SIGKILL); // the outsiders too: the family has seen them
        _leader.WaitForExit();
        _leader.Dispose();
    }

    [Fact]
    public async Task Finds_the_same_members_as_a_scan_of_all_of_proc_outsiders_and_other_groups_included()
    {
        await Eventually.TrueAsync(() => _family.Members().Count == 6, TimeSpan.FromSeconds(10), "four sleeps, setsid -w, and the sleep its bash became");

        var fast = _family.Members().Select(m => m.Pid).Order().ToArray();
        var all = ProcStat.All().ToArray();
        var scanned = new ProcessFamily(_leader.Id).MembersIn(all, all.ToLookup(p => p.ParentPid)).Select(m => m.Pid).Order().ToArray();

        Assert.Equal(scanned, fast);
        Assert.Contains(all, p => fast.Contains(p.Pid) && p.Session != _leader.Id); // the setsid one and its child are in
        Assert.Contains(all, p => fast.Contains(p.Pid) && p.Session == _leader.Id && p.ProcessGroup != _leader.Id); // so is the job in its own group
    }

    [Fact]
    public async Task An_outsider_seen_once_is_still_a_member_after_its_parent_is_gone()
    {
        await Eventually.TrueAsync(() => _family.Members().Count == 6, TimeSpan.FromSeconds(10), "the family to be complete");
        var outsiders = _family.Members().Where(m => m.Session != _leader.Id).ToArray();
        Assert.Equal(2, outsiders.Length); // sleep 303 (the setsid bash's exec) and its child sleep 302

        // Its parent, setsid -w, dies: sleep 303 goes to init, and nothing in /proc ties it to the unit any more.
        var setsid = outsiders.Select(o => o.ParentPid).Single(p => outsiders.All(o => o.Pid != p));
        LibC.kill(setsid, LibC.SIGKILL);
        await Eventually.TrueAsync(() => ProcStat.Read(setsid) is null or { IsZombie: true }, TimeSpan.FromSeconds(10), "setsid -w to be gone");

        Assert.Subset(_family.Members().Select(m => m.Pid).ToHashSet(), outsiders.Select(o => o.Pid).ToHashSet());
    }
}
