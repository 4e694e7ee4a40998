namespace PluginHost.Contracts.Units;

/// <summary>A named port a unit needs: try <paramref name="Preferred"/>, then the next <paramref name="Scan"/> ports.</summary>
/// <param name="Preferred">0 means any free port chosen by the OS.</param>
public sealed record PortRequest(string Name, int Preferred, int Scan = 10);
