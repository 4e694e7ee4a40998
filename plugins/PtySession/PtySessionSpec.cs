using PluginHost.Contracts.Specs;

namespace PluginHost.Plugins.PtySession;

/// <summary>
/// <code>
/// spec:
///   command: /bin/bash          # a name on PATH or a path
///   args: [-l]
///   env: { LANG: C.UTF-8 }
///   cwd: ~/work                 # default: the unit's data folder
///   cols: 120
///   rows: 40
///   scrollback: 1048576         # bytes kept for late viewers and the scrollback operation
///   restartOnCrash: true        # a session that dies is started again (restart policy: always)
///   poolLimit: 30               # at most this many sessions of this kind at once; beyond it PTY_POOL_FULL
/// </code>
/// </summary>
internal sealed record PtySessionSpec(
    string Command,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string? WorkingDirectory,
    int Columns,
    int Rows,
    int ScrollbackBytes,
    bool RestartOnCrash,
    int PoolLimit)
{
    public static (PtySessionSpec Spec, IReadOnlyList<SpecProblem> Problems) Read(SpecMapping mapping)
    {
        var reader = new SpecReader(mapping);
        var spec = new PtySessionSpec(
            reader.RequiredString("command"),
            reader.StringList("args"),
            reader.StringMap("env"),
            reader.String("cwd"),
            reader.Int("cols", 2, 1000) ?? 120,
            reader.Int("rows", 2, 1000) ?? 40,
            reader.Int("scrollback", 4096, 256 * 1024 * 1024) ?? 1024 * 1024,
            reader.Bool("restartOnCrash") ?? true,
            reader.Int("poolLimit", 1, 10_000) ?? 30);
        reader.RejectUnknownKeys();
        return (spec, reader.Problems);
    }
}
