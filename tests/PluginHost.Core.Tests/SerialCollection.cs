using Xunit;

namespace PluginHost.Core.Tests;

/// <summary>Tests that measure the whole process (heap size, timings) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
