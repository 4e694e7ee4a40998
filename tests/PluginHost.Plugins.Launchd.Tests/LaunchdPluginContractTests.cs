using PluginHost.Contracts.Testing;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>The promises every plugin keeps, for launchd-service.</summary>
public sealed class LaunchdPluginContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("launchd-service");

    protected override string Kind => "launchd-service";

    protected override string ValidSpec => """
        Label: com.example.job
        ProgramArguments: [/bin/sh, -c, "echo hi"]
        WorkingDirectory: .
        EnvironmentVariables: { A: b }
        RunAtLoad: true
        KeepAlive: { SuccessfulExit: false, Crashed: true, PathState: { /tmp/go: true }, OtherJobEnabled: { db: true } }
        ThrottleInterval: 30
        ExitTimeOut: 5
        StandardOutPath: out.log
        StandardErrorPath: err.log
        """;

    protected override string MalformedSpec => """
        ProgramArguments: { a: 1 }
        KeepAlive: [x]
        ThrottleInterval: soon
        Sockets: {}
        """;
}

/// <summary>The promises of running units, for launchd-service: its own KeepAlive decides restarts (no manifest restart policy).</summary>
public sealed class LaunchdUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("launchd-service");

    protected override string Kind => "launchd-service";

    protected override string RunningSpec => Job(keepAlive: true);

    protected override string FailingSpec => """
        Label: com.example.missing
        ProgramArguments: [/nonexistent/program]
        """;

    protected override (string Spec, string Supervision) Restarting => (Job(keepAlive: true), "");

    protected override (string Spec, string Supervision) StayingDown => (Job(keepAlive: false), "");

    private static string Job(bool keepAlive) => $"""
        Label: com.example.sleeper
        ProgramArguments: [/bin/sh, -c, "sleep 1000 & wait"]
        KeepAlive: {(keepAlive ? "true" : "false")}
        ThrottleInterval: 1
        ExitTimeOut: 5
        """;
}
