using System.Globalization;
using System.Text;
using PluginHost.Contracts.Equipment;
using PluginHost.Plugins;

namespace PluginHost.Drivers.Simulated;

/// <summary>
/// A simulated SCPI-style instrument. Options (the slot's <c>options</c>):
/// <list type="bullet">
/// <item><c>seed</c>: the noise is a deterministic function of the seed and the reading's number;</item>
/// <item><c>noise</c>: the noise amplitude in volts (default 0.002);</item>
/// <item><c>rails</c> (DMM): <c>3V3=3.30,5V0=5.02,1V8=1.93</c> — what <c>MEAS:VOLT:DC? RAIL</c> reads;</item>
/// <item><c>fault</c>, what a real instrument does wrong, for tests: <c>refuse</c> (nothing listens:
/// connect fails), <c>timeout</c> (no answer: every command fails after the endpoint's timeout),
/// <c>error-after=N</c> (commands after the first N answer with the instrument's own error -310),
/// <c>disconnect-after=N</c> (the instrument drops each connection after N commands: command N+1 and every
/// later one fail until it is connected again, which works).</item>
/// <item><c>checkErrors: false</c>: errors stay in the queue for <c>SYST:ERR?</c> / <see cref="ReadErrorsAsync"/>
/// instead of failing the command, as with the SCPI driver.</item>
/// </list>
/// Commands: <c>*IDN?</c>, <c>*RST</c>, <c>*CLS</c>, <c>*OPC?</c>, <c>SYST:ERR?</c>; DMM <c>MEAS:VOLT:DC? [RAIL]</c>;
/// PSU <c>VOLT V</c>, <c>CURR A</c>, <c>OUTP ON|OFF</c>, <c>OUTP?</c>, <c>MEAS:VOLT?</c>, <c>MEAS:CURR?</c>; several joined with ';'.
/// Errors behave as the SCPI driver reports a real instrument's: queued, then drained after the
/// command and reported as its <c>SCPI_ERROR n</c>.
/// </summary>
internal sealed class SimulatedInstrument(SimulatedInstrument.Model model) : IEquipmentDriver
{
    internal enum Model
    {
        Dmm,
        PowerSupply,
    }

    private readonly Queue<(int Code, string Text)> _errors = new();
    private readonly Dictionary<string, double> _rails = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyDictionary<string, string> _options = new Dictionary<string, string>();
    private bool _connected;
    private int _seed;
    private double _noise = 0.002;
    private long _readings;
    private long _commands;
    private int? _errorAfter;
    private int? _disconnectAfter;
    private bool _dropped;
    private bool _hangs;
    private bool _checkErrors = true;
    private TimeSpan _timeout;
    private double _volts;
    private double _amps = 1;
    private bool _output;

    public ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _options = endpoint.Options;
        var fault = Option("fault");
        if (fault == "refuse")
        {
            throw new EquipmentException(EquipmentCodes.Refused, $"the simulated {Name} refused the connection (fault: refuse)");
        }

        _hangs = fault == "timeout";
        _errorAfter = Count(fault, "error-after=");
        _disconnectAfter = Count(fault, "disconnect-after=");
        _checkErrors = Option("checkErrors") is not ("false" or "0" or "no");
        _timeout = endpoint.Timeout;
        (_dropped, _commands) = (false, 0);
        _seed = int.TryParse(Option("seed"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : 1;
        _noise = double.TryParse(Option("noise"), NumberStyles.Float, CultureInfo.InvariantCulture, out var noise) ? noise : 0.002;
        foreach (var pair in (Option("rails") ?? "3V3=3.30,5V0=5.00").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                _rails[parts[0]] = v;
            }
        }

        _connected = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        _connected = false;
        return ValueTask.CompletedTask;
    }

    public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new EquipmentIdentity("PluginHost", model == Model.Dmm ? "SIM-DMM" : "SIM-PSU", $"SIM{_seed:D4}", "1.0"));

    public async ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await BeforeCommandAsync(cancellationToken).ConfigureAwait(false);
        var answers = command.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Execute).Where(a => a is not null).ToList();
        AfterCommand(command);
        var text = string.Join(";", answers);
        return new EquipmentReply(text, Encoding.ASCII.GetBytes(text + "\n"));
    }

    public async ValueTask WriteAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await BeforeCommandAsync(cancellationToken).ConfigureAwait(false);
        foreach (var part in command.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            Execute(part);
        }

        AfterCommand(command);
    }

    public async ValueTask<IReadOnlyList<EquipmentError>> ReadErrorsAsync(CancellationToken cancellationToken)
    {
        await BeforeCommandAsync(cancellationToken).ConfigureAwait(false);
        var errors = _errors.Select(e => new EquipmentError(e.Code, e.Text)).ToList();
        _errors.Clear();
        return errors;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string Name => model == Model.Dmm ? "DMM" : "power supply";

    private string? Option(string name) => _options.TryGetValue(name, out var value) ? value : null;

    private static int? Count(string? fault, string prefix) =>
        fault?.StartsWith(prefix, StringComparison.Ordinal) == true && int.TryParse(fault[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>What happens before the instrument executes anything: the connection, and the faults asked for.</summary>
    private async Task BeforeCommandAsync(CancellationToken cancellationToken)
    {
        if (!_connected)
        {
            throw new EquipmentException(EquipmentCodes.NotConnected, $"the simulated {Name} is not connected");
        }

        var command = ++_commands;
        if (_dropped || command > _disconnectAfter)
        {
            _dropped = true;
            throw new EquipmentException(EquipmentCodes.Disconnected, $"the simulated {Name} dropped the connection (fault: disconnect-after={_disconnectAfter})");
        }

        if (_hangs)
        {
            await Task.Delay(_timeout, cancellationToken).ConfigureAwait(false);
            throw new EquipmentException(EquipmentCodes.Timeout, $"the simulated {Name} did not answer within {_timeout.TotalMilliseconds:F0} ms (fault: timeout)");
        }

        if (command > _errorAfter)
        {
            _errors.Enqueue((-310, "System error"));
        }
    }

    /// <summary>The queue drained after the command, as the SCPI driver drains a real instrument's: anything in it is this command's error.</summary>
    private void AfterCommand(string command)
    {
        if (!_checkErrors || _errors.Count == 0)
        {
            return;
        }

        var errors = _errors.ToList();
        _errors.Clear();
        throw new EquipmentException($"SCPI_ERROR {errors[0].Code}",
            $"\"{command}\": the simulated {Name} reported {string.Join("; ", errors.Select(e => $"{e.Code}, {e.Text}"))}", ScpiErrorClasses.RemedyFor(errors[0].Code));
    }

    private string? Execute(string command)
    {
        var parts = command.Split(' ', 2, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var header = parts.Length == 0 ? "" : parts[0].ToUpperInvariant();
        var argument = parts.Length > 1 ? parts[1] : null;
        switch (header)
        {
            case "*IDN?":
                return $"PluginHost,{(model == Model.Dmm ? "SIM-DMM" : "SIM-PSU")},SIM{_seed:D4},1.0";
            case "*RST":
                (_volts, _amps, _output) = (0, 1, false);
                return null;
            case "*CLS":
                _errors.Clear();
                return null;
            case "*OPC?":
                return "1";
            case "SYST:ERR?":
                return _errors.TryDequeue(out var e) ? $"{e.Code},\"{e.Text}\"" : "+0,\"No error\"";
        }

        if (model == Model.Dmm && header == "MEAS:VOLT:DC?")
        {
            var rail = argument ?? _rails.Keys.FirstOrDefault() ?? "";
            if (!_rails.TryGetValue(rail, out var nominal))
            {
                _errors.Enqueue((-222, $"Data out of range: no rail {rail} (rails: {string.Join(", ", _rails.Keys)})"));
                return null;
            }

            return Format(nominal + Noise());
        }

        if (model == Model.PowerSupply)
        {
            switch (header)
            {
                case "VOLT" when Number(argument) is { } v:
                    _volts = v;
                    return null;
                case "CURR" when Number(argument) is { } a:
                    _amps = a;
                    return null;
                case "OUTP" when argument is not null:
                    _output = argument.Equals("ON", StringComparison.OrdinalIgnoreCase) || argument == "1";
                    return null;
                case "OUTP?":
                    return _output ? "1" : "0";
                case "MEAS:VOLT?":
                    return Format(_output ? _volts + Noise() : 0);
                case "MEAS:CURR?":
                    return Format(_output ? Math.Min(_amps, 0.25) + (Noise() / 10) : 0);
            }
        }

        _errors.Enqueue((-113, $"Undefined header: {header}"));
        return null;
    }

    /// <summary>A deterministic function of the seed and the reading's number, in [-noise, +noise].</summary>
    private double Noise()
    {
        var n = (ulong)Interlocked.Increment(ref _readings) * 0x9E3779B97F4A7C15UL ^ (ulong)_seed * 0xBF58476D1CE4E5B9UL;
        n ^= n >> 31;
        return ((n % 2_000_001) / 1_000_000.0 - 1) * _noise;
    }

    private static double? Number(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string Format(double value) => value.ToString("+0.00000000E+00;-0.00000000E+00", CultureInfo.InvariantCulture);
}
