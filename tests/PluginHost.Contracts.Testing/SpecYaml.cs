using PluginHost.Contracts.Specs;
using PluginHost.Core.Manifests;

namespace PluginHost.Contracts.Testing;

/// <summary>Turns the YAML of a <c>spec:</c> section into the <see cref="SpecMapping"/> a driver receives.</summary>
public static class SpecYaml
{
    public static SpecMapping Parse(string specYaml, string file = "unit.yaml")
    {
        ArgumentNullException.ThrowIfNull(specYaml);
        var indented = string.Join('\n', specYaml.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => "  " + l));
        var (root, problems) = YamlDocumentReader.Read("spec:\n" + indented + "\n", file);
        if (problems.Count > 0 || root is not SpecMapping mapping)
        {
            throw new ArgumentException("not valid spec YAML: " + string.Join("; ", problems), nameof(specYaml));
        }

        return mapping["spec"] switch
        {
            SpecMapping spec => spec,
            _ => SpecMapping.Empty("spec"),
        };
    }
}
