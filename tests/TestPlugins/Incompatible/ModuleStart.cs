using System.Runtime.CompilerServices;

namespace TestPlugins.Incompatible;

/// <summary>Leaves a mark if any of this plugin's code ever runs: a refused plugin's must not.</summary>
internal static class ModuleStart
{
    public const string Mark = "TestPlugins.Incompatible.ran";

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The test plugin proves the host runs none of a refused plugin's code.")]
    internal static void Run() => AppDomain.CurrentDomain.SetData(Mark, true);
}
