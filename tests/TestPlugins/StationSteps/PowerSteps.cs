using System.Globalization;
using PluginHost.Contracts.Equipment;
using PluginHost.Station.Steps;

namespace TestPackages.StationSteps;

/// <summary>C# steps of a package: the MEF-style part, discovered by the worker in this assembly's own load context.</summary>
[Sequence]
public sealed class PowerSteps : IDisposable
{
    private int _reads;

    [Step("ripple")]
    public async Task RippleAsync(IStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dmm = context.Instrument("dmm");
        var samples = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var reply = await dmm.QueryAsync("MEAS:VOLT:DC? 3V3", context.Cancellation);
            samples.Add(double.Parse(reply.Text, CultureInfo.InvariantCulture));
            _reads++;
        }

        context.Measure("ripple_mv", (samples.Max() - samples.Min()) * 1000, "mV");
        context.Log($"{samples.Count} samples");
    }

    [Step("serial_known")]
    public StepVerdict SerialKnown(IStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Parameters["dut_serial"]?.GetValue<string>() is { Length: > 0 } serial && serial != "SN-0000" ? StepVerdict.Pass : StepVerdict.Fail;
    }

    [Step("optional")]
    public StepVerdict Optional(IStepContext context) => StepVerdict.Skip;

    [Step("broken_instrument")]
    public Task BrokenAsync(IStepContext context) => throw new EquipmentException("EQUIPMENT_REFUSED", $"the fixture's relay did not close after {_reads} reads");

    public void Dispose() => _reads = 0;
}
