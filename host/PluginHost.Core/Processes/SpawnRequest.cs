namespace PluginHost.Core.Processes;

/// <summary>A fully resolved launch: absolute command, final arguments and environment, existing working directory.</summary>
internal sealed record SpawnRequest(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory);
