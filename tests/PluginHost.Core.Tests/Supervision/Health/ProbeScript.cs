using PluginHost.Contracts.Units;

namespace PluginHost.Core.Tests.Supervision.Health;

/// <summary>A kind's probe that answers from a script, one answer per call, and counts its calls.</summary>
internal sealed class ProbeScript(params ProbeResult[] answers)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<ProbeResult> AnswerAsync(ProbeKind kind, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls) - 1;
        return ValueTask.FromResult(call < answers.Length ? answers[call] : answers[^1]);
    }
}
