using System.Globalization;
using PluginHost.Station.Steps;

namespace Acme.Sample;

/// <summary>
/// C# steps of the acme-sample sequence package (sequence.yaml names them). At every run the station
/// worker loads this assembly into a collectible context of its own, makes one instance of each
/// <see cref="SequenceAttribute"/> class for the execution and unloads it afterwards, so a rebuilt
/// package is taken up by the next run. A step returns its verdict (or nothing: PASS unless a
/// measurement fails its validator); an exception is the step's ERROR, an EquipmentException with its code.
/// </summary>
[Sequence]
public sealed class AcmeSampleSteps
{
    [Step("rail_3v3")]
    public async Task Rail3V3Async(IStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reply = await context.Instrument("dmm").QueryAsync("MEAS:VOLT:DC? 3V3", context.Cancellation).ConfigureAwait(false);
        context.Measure("v_3v3", double.Parse(reply.Text, CultureInfo.InvariantCulture), "V"); // judged by the step's validator in sequence.yaml
    }

    [Step("serial_known")]
    public StepVerdict SerialKnown(IStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var serial = context.Parameters.TryGetValue("dut_serial", out var value) ? value?.GetValue<string>() : null;
        context.Log($"serial {serial}");
        return serial is { Length: > 0 } && serial != "SN-0000" ? StepVerdict.Pass : StepVerdict.Fail;
    }
}
