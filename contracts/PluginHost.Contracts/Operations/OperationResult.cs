using System.Text.Json;
using PluginHost.Contracts.Units;

namespace PluginHost.Contracts.Operations;

/// <summary>The answer to an operation: <c>{success, message, data}</c>, with a coded error on failure.</summary>
public sealed record OperationResult(bool Success, string Message)
{
    public JsonElement? Data { get; init; }

    public UnitError? Error { get; init; }

    public static OperationResult Ok(string message, JsonElement? data = null) => new(true, message) { Data = data };

    public static OperationResult Fail(string message) => new(false, message);

    public static OperationResult Fail(UnitError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(false, error.Message) { Error = error };
    }
}
