using PluginHost.Contracts.Testing;

namespace PluginHost.Plugins.Process.Tests;

public sealed class ProcessPluginContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("process");

    protected override string Kind => "process";

    protected override string ValidSpec => """
        command: /bin/sh
        args: [-c, "echo hi"]
        env: { A: b }
        cwd: .
        """;

    protected override string MalformedSpec => """
        args: { a: 1 }
        cwd: [x]
        shel: true
        """;
}

public sealed class ProcessUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("process");

    protected override string Kind => "process";

    protected override string RunningSpec => """
        command: /bin/sh
        args: [-c, "sleep 1000 & wait"]
        """;

    protected override string FailingSpec => "command: /nonexistent/program";
}
