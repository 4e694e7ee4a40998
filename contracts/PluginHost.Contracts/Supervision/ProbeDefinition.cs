namespace PluginHost.Contracts.Supervision;

/// <summary>
/// A health probe the host runs. Common settings: how often, how long one attempt may take, and how
/// many consecutive failures count as unhealthy.
/// </summary>
public abstract record ProbeDefinition
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    public int FailureThreshold { get; init; } = 3;
}

/// <summary>GET http://127.0.0.1:{port}{Path}; any 2xx answer within the timeout is healthy.</summary>
public sealed record HttpProbe(string Path, string Port) : ProbeDefinition;

/// <summary>A TCP connection to the named port is accepted.</summary>
public sealed record TcpProbe(string Port) : ProbeDefinition;

/// <summary>The command exits with 0.</summary>
public sealed record ExecProbe(string Command, IReadOnlyList<string> Arguments) : ProbeDefinition;

/// <summary>A captured output line matches the regular expression (readiness only).</summary>
public sealed record LogLineProbe(string Pattern) : ProbeDefinition;
