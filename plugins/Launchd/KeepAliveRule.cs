using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Launchd;

/// <summary>
/// launchd's KeepAlive (launchd.plist(5)): a boolean, or a dictionary of conditions that launchd
/// ORs — the job runs again when any one of them holds. Pure: the file system and the other units
/// are asked through the functions passed in.
/// </summary>
/// <param name="Always">The boolean form (true: always run again; false: never); null for the dictionary form.</param>
internal sealed record KeepAliveRule(
    bool? Always,
    bool? SuccessfulExit = null,
    bool? Crashed = null,
    IReadOnlyList<KeyValuePair<string, bool>>? PathState = null,
    IReadOnlyList<KeyValuePair<string, bool>>? OtherJobEnabled = null)
{
    public static KeepAliveRule Off { get; } = new(Always: false);

    public IReadOnlyList<KeyValuePair<string, bool>> Paths => PathState ?? [];

    public IReadOnlyList<KeyValuePair<string, bool>> Jobs => OtherJobEnabled ?? [];

    /// <summary>
    /// The signals launchd counts as a crash (its job_reap): SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS,
    /// SIGSEGV, SIGSYS — numbered as this platform numbers them.
    /// </summary>
    public static IReadOnlySet<int> CrashSignals { get; } = OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()
        ? new HashSet<int> { 4, 5, 6, 8, 10, 11, 12 }
        : new HashSet<int> { 4, 5, 6, 7, 8, 11, 31 };

    /// <param name="exit">How the last process ended; null when the unit has not run since it was loaded.</param>
    public KeepAliveVerdict Evaluate(UnitExit? exit, Func<string, bool> pathExists, Func<string, bool> unitEnabled)
    {
        ArgumentNullException.ThrowIfNull(pathExists);
        ArgumentNullException.ThrowIfNull(unitEnabled);
        if (Always is { } always)
        {
            return always ? new(true, "KeepAlive is true") : new(false, "KeepAlive is false: runs only when started");
        }

        if (exit is null)
        {
            // Before any exit: launchd's man page has SuccessfulExit imply RunAtLoad; a job that has not
            // crashed satisfies Crashed = false.
            if (SuccessfulExit is not null)
            {
                return new(true, "KeepAlive SuccessfulExit implies RunAtLoad");
            }

            if (Crashed == false)
            {
                return new(true, "KeepAlive Crashed is false and it has not crashed");
            }
        }
        else
        {
            if (SuccessfulExit is { } successful && exit.Succeeded == successful)
            {
                return new(true, successful ? "KeepAlive: it exited successfully (SuccessfulExit true)" : $"KeepAlive: it exited {Describe(exit)} (SuccessfulExit false)");
            }

            var crashed = exit.Signal is { } signal && CrashSignals.Contains(signal);
            if (Crashed is { } wantCrashed && crashed == wantCrashed)
            {
                return new(true, wantCrashed ? $"KeepAlive: it crashed ({Describe(exit)}; Crashed true)" : $"KeepAlive: it did not crash ({Describe(exit)}; Crashed false)");
            }
        }

        foreach (var (path, exists) in Paths)
        {
            if (pathExists(path) == exists)
            {
                return new(true, $"KeepAlive: {path} {(exists ? "exists" : "does not exist")} (PathState)");
            }
        }

        foreach (var (job, enabled) in Jobs)
        {
            if (unitEnabled(job) == enabled)
            {
                return new(true, $"KeepAlive: unit {job} is {(enabled ? "enabled" : "not enabled")} (OtherJobEnabled)");
            }
        }

        var waits = Paths.Select(p => $"{p.Key} to {(p.Value ? "exist" : "be gone")}")
            .Concat(Jobs.Select(j => $"unit {j.Key} to be {(j.Value ? "enabled" : "disabled")}")).ToList();
        return waits.Count > 0
            ? new(false, "KeepAlive: waiting for " + string.Join(" or ", waits)) { AskAgain = true }
            : new(false, exit is null ? "KeepAlive: no condition holds before a first run" : $"KeepAlive: no condition holds after it exited {Describe(exit)}");
    }

    private static string Describe(UnitExit exit) =>
        exit.Signal is { } signal ? $"on signal {signal}" : exit.Code is { } code ? $"with status {code}" : "(status not knowable)";
}
