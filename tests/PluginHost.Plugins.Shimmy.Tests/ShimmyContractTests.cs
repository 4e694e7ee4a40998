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
