using Xunit;

namespace PluginHost.Plugins.Shimmy.Tests;

public sealed class GpuMemoryTests
{
    [Fact]
    public void The_rows_of_the_pid_are_summed_over_GPUs_and_other_processes_ignored()
    {
        const string Output = "4242, 1024\n977, 8000\n4242, 512\nnot a row\n42420, 64\n";

        Assert.Equal(1536, GpuMemory.Parse(Output, 4242));
        Assert.Equal(0, GpuMemory.Parse(Output, 1));
    }
}
