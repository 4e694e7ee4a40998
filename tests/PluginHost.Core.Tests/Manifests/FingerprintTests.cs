using PluginHost.Core.Manifests;
using PluginHost.Contracts.Testing;
using PluginHost.Core.Tests.TestDoubles;
using Xunit;

namespace PluginHost.Core.Tests.Manifests;

public sealed class FingerprintTests
{
    [Fact]
    public void The_managed_SHA_256_agrees_with_the_frameworks_on_every_padding_boundary()
    {
        var random = new Random(20261201);
        for (var length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);

            Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), Sha256.Hash(data));
        }

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(Sha256.Hash("abc"u8))); // FIPS 180-2, appendix B.1
    }

    [Fact]
    public void A_fingerprint_is_a_hash_that_changes_with_the_content_and_never_holds_a_secret()
    {
        using var dir = new TempDirectory();
        dir.Write("a.yaml", "apiVersion: pluginhost/v1\nkind: worker\nname: a\nenv: { API_KEY: s3cret-value }\nspec: { command: /bin/true }\n");
        var first = UnitSetLoader.Load(dir.Path, new TestKinds()).Units!.Units["a"].Fingerprint;
        dir.Write("a.yaml", "apiVersion: pluginhost/v1\nkind: worker\nname: a\nenv: { API_KEY: s3cret-valuf }\nspec: { command: /bin/true }\n");
        var second = UnitSetLoader.Load(dir.Path, new TestKinds()).Units!.Units["a"].Fingerprint;
        dir.Write("a.yaml", "# a comment changes nothing\napiVersion: pluginhost/v1\nname: a\nkind: worker\nenv: { API_KEY: s3cret-valuf }\nspec: { command: /bin/true }\n");
        var reordered = UnitSetLoader.Load(dir.Path, new TestKinds()).Units!.Units["a"].Fingerprint;

        Assert.Matches("^sha256:[0-9a-f]{64}$", first);
        Assert.DoesNotContain("s3cret", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.Equal(second, reordered);
    }
}
