using PluginHost.Core.Manifests;
using PluginHost.Core.Tests.TestDoubles;

namespace PluginHost.Core.Tests.Manifests;

/// <summary>Reads a unit manifest from text, as if from the file "unit.yaml".</summary>
internal static class ManifestText
{
    public static (UnitManifest? Unit, IReadOnlyList<ManifestProblem> Problems) Read(string yaml)
    {
        var (root, problems) = YamlDocumentReader.Read(yaml, "unit.yaml");
        if (problems.Count > 0)
        {
            return (null, problems);
        }

        return UnitManifestReader.Read(root, "unit.yaml", new TestKinds());
    }

    public static UnitManifest Valid(string yaml)
    {
        var (unit, problems) = Read(yaml);
        return unit ?? throw new Xunit.Sdk.XunitException("expected a valid manifest, got:\n" + string.Join("\n", problems));
    }
}
