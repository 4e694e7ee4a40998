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
