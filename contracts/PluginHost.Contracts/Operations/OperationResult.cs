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

    /// <summary>The code of <see cref="InvalidArguments"/>: the host answers it 400, as its own argument checks (since 1.4).</summary>
    public const string InvalidArgumentsCode = "INVALID_ARGUMENTS";

    /// <summary>
    /// The caller's arguments fit the declared shape but not the operation (a negative count, bytes
    /// that are not base64): a 400 for the caller to fix, not a 409 failure of the unit (since 1.4).
    /// </summary>
    public static OperationResult InvalidArguments(string message, string remedy) => Fail(new UnitError(InvalidArgumentsCode, message, remedy));
}
