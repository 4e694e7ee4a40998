using PluginHost.Contracts.Testing;

namespace PluginHost.Plugins.Shimmy.Tests;

public sealed class ShimmyContractTests : PluginContractTests
{
    protected override string PluginFolder => RepositoryLayout.Plugin("shimmy");

    protected override string Kind => "shimmy";

    protected override string ValidSpec => """
        binary: shimmy
        modelsDir: ./models
        model: phi-3-mini.gguf
        download: { url: "https://example.org/phi-3-mini.gguf", sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", retries: 2 }
        logLevel: info
        accel: auto
        allowCpuFallback: true
        port: 11435
        portScan: 10
        startTimeout: 120s
        maxRestarts: 3
        args: [--workers, "2"]
        """;

    protected override string MalformedSpec => """
        model: ../escape.gguf
        download: { url: "ftp://x", sha256: "abc" }
        logLevel: verbose
        accel: tpu
        port: 0
        startTimeot: 5s
        """;
}

/// <summary>The promises of running units, for shimmy: tests/fixtures/fake-shimmy stands in for the server (same flags, same answers).</summary>
public sealed class ShimmyUnitContractTests : UnitContractTests
{
    private static readonly string FakeShimmy = Path.Combine(RepositoryLayout.Root, "tests", "fixtures", "fake-shimmy", "shimmy");

    protected override string PluginFolder => RepositoryLayout.Plugin("shimmy");

    protected override string Kind => "shimmy";

    protected override string RunningSpec => $"{{ binary: {FakeShimmy}, modelsDir: ./models, accel: cpu, port: {HostProcess.FreePort()} }}";

    protected override string FailingSpec => "{ binary: /nonexistent/shimmy, modelsDir: ./models, accel: cpu }";

    protected override void Prepare(string manifestsFolder) => File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(manifestsFolder, "models")).FullName, "m.gguf"), "not really a model");
}
