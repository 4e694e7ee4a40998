using PluginHost.Contracts.Testing;

namespace PluginHost.Core.Tests.Terminals;

public sealed class PtySessionContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("pty-session");

    protected override string Kind => "pty-session";

    protected override string ValidSpec => """
        command: /bin/bash
        args: [-l]
        env: { LANG: C.UTF-8 }
        cwd: .
        cols: 100
        rows: 30
        scrollback: 65536
        restartOnCrash: true
        poolLimit: 30
        """;

    protected override string MalformedSpec => """
        args: -l
        cols: 1
        scrollback: 10
        restartOnCrsh: true
        """;
}

public sealed class PtySessionUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("pty-session");

    protected override string Kind => "pty-session";

    protected override string RunningSpec => "command: /bin/sh";

    protected override string FailingSpec => "command: /nonexistent/shell";

    /// <summary>The master of the session's terminal is the host's: a host restart ends the session and the next host starts it afresh (docs/pty-session.md).</summary>
    protected override bool KeptAcrossHostRestart => false;
}
