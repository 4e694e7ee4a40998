using System.Text.Json;
using PluginHost.Contracts.Operations;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Supervision;

internal sealed partial class UnitSupervisor
{
    /// <summary>The extra operations the unit's plugin offers (none when the plugin fails to say).</summary>
    public IReadOnlyList<UnitOperation> Operations()
    {
        try
        {
            return Driver.Operations;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDriverFailed(Name, nameof(IUnitDriver.Operations), ex.Message);
            return [];
        }
    }

    /// <summary>Runs a plugin operation whose arguments were checked against its declared parameters.</summary>
    public async Task<OperationResult> InvokeAsync(UnitOperation operation, JsonElement arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        try
        {
            return await Driver.InvokeAsync(_context, operation.Name, arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (UnitErrorException ex)
        {
            return OperationResult.Fail(ex.Error);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A plugin bug answers as a coded failure; it never takes the API down with it.
            LogDriverFailed(Name, nameof(IUnitDriver.InvokeAsync), ex.Message);
            return OperationResult.Fail(new UnitError("OPERATION_FAILED", $"The {Kind} plugin failed while running \"{operation.Name}\": {ex.Message}",
                "See the host log for details; report the bug to the plugin's authors."));
        }
    }

    /// <summary>The unit's manifest environment as the API may show it: values not marked public are hidden.</summary>
    public IReadOnlyDictionary<string, string> PublicEnvironment() =>
        Manifest.Env.ToDictionary(e => e.Key, e => e.Value.Public ? e.Value.Value : "(secret)", StringComparer.Ordinal);
}
