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

/// <summary>The promises of running units, for python-server: a real uvicorn + FastAPI app (Debian's packages).</summary>
public sealed class PythonServerUnitContractTests : UnitContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("python-server");

    protected override string Kind => "python-server";

    protected override string RunningSpec => "{ app: main:app, appDir: ./app, python: /usr/bin/python3 }";

    protected override string FailingSpec => "{ app: main:app, appDir: ./app, python: /nonexistent/python3 }";

    protected override void Prepare(string manifestsFolder)
    {
        Prerequisite.PythonWithUvicorn();
        File.Copy(Path.Combine(RepositoryLayout.Root, "samples", "hello-api", "main.py"), Path.Combine(Directory.CreateDirectory(Path.Combine(manifestsFolder, "app")).FullName, "main.py"));
    }
}
