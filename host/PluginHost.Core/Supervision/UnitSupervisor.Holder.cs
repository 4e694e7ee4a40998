using System.Text.Json.Nodes;
using PluginHost.Contracts.Units;
using PluginHost.Core.Storage;

using PluginHost.Core.Supervision.Launch;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    public const string HolderReplacedKind = "output_holder_replaced";
    public const string HolderLostKind = "output_holder_lost";

    /// <summary>Replaces the running process's output holder each time it dies while the process runs.</summary>
    private async Task WatchHolderAsync(RunningChild child, ProcessRecord record)
    {
        var holder = child.Holder;
        while (holder.Pid > 0)
        {
            var dead = holder.Pid;
            await holder.Exited.ConfigureAwait(false);
            if (holder.IsReleased || child.Exited.IsCompleted || _shutdown.IsCancellationRequested)
            {
                return;
            }

            var replacement = holder.Replace();
            if (replacement == 0)
            {
                if (holder.IsReleased || child.Exited.IsCompleted)
                {
                    return;
                }

                var error = new UnitError("OUTPUT_HOLDER_LOST", $"The output holder of {Name} (pid {dead}) died and no new one could be started.",
                    $"Output is still captured, but a crash of the host now ends {Name} with SIGPIPE: restart {Name} to get a new holder.");
                _events.Publish(HolderLostKind, new JsonObject { ["pid"] = dead, ["code"] = error.Code, ["message"] = error.Message, ["remedy"] = error.Remedy });
                LogHolderLost(Name, dead);
                return;
            }

            record = record with { HolderPid = replacement, HolderStartTimeTicks = holder.StartTimeTicks };
            _services.Journal?.RecordProcess(record);
            _events.Publish(HolderReplacedKind, new JsonObject { ["pid"] = dead, ["replacement"] = replacement, ["unitPid"] = child.Pid });
            LogHolderReplaced(Name, dead, replacement);
        }
    }
}
