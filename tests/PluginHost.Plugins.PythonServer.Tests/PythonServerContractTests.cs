using PluginHost.Contracts.Testing;

namespace PluginHost.Plugins.PythonServer.Tests;

public sealed class PythonServerContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("python-server");

    protected override string Kind => "python-server";

    protected override string ValidSpec => """
        app: main:app
        appDir: .
        python: /usr/bin/python3
        port: 8121
        portScan: 5
        readinessPath: /health
        uvicornArgs: [--log-level, info]
        env: { A: b }
        """;

    protected override string MalformedSpec => """
        app: main
        port: 70000
        readinessPath: health
        uvicornArgz: []
        """;
}
