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
