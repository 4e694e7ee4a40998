using System.Collections.Concurrent;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Units;

/// <summary>A unit state bag kept in memory (the durable one lives in the journal).</summary>
internal sealed class MemoryStateBag : IUnitStateBag
{
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal);

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public void Set(string key, string? value)
    {
        if (value is null)
        {
            _values.TryRemove(key, out _);
        }
        else
        {
            _values[key] = value;
        }
    }
}
