using System.Globalization;

namespace PluginHost.Contracts.Equipment;

/// <summary>(since 1.6) Typed reads over <see cref="IEquipmentDriver.QueryAsync"/>, for the numbers sequences measure.</summary>
public static class EquipmentQueries
{
    private static readonly char[] Separators = [',', ' ', '\t', ';'];

    /// <summary>The query's answer as one number (<c>+1.2345E+00</c>, <c>3300</c>).</summary>
    /// <exception cref="EquipmentException"><see cref="EquipmentCodes.BadReply"/> when the answer is not one number.</exception>
    public static async ValueTask<double> QueryNumberAsync(this IEquipmentDriver driver, string command, CancellationToken cancellationToken)
    {
        var numbers = await driver.QueryNumbersAsync(command, cancellationToken).ConfigureAwait(false);
        return numbers.Count == 1
            ? numbers[0]
            : throw new EquipmentException(EquipmentCodes.BadReply, $"\"{command}\" answered {numbers.Count} numbers where one was expected");
    }

    /// <summary>The query's answer as numbers separated by commas or spaces (SCPI lists, Modbus registers).</summary>
    /// <exception cref="EquipmentException"><see cref="EquipmentCodes.BadReply"/> when a part is not a number.</exception>
    public static async ValueTask<IReadOnlyList<double>> QueryNumbersAsync(this IEquipmentDriver driver, string command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var reply = await driver.QueryAsync(command, cancellationToken).ConfigureAwait(false);
        var parts = reply.Text.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var numbers = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
            {
                throw new EquipmentException(EquipmentCodes.BadReply, $"\"{command}\" answered \"{Shown(reply.Text)}\", and \"{Shown(parts[i])}\" is not a number");
            }
        }

        return numbers.Length > 0
            ? numbers
            : throw new EquipmentException(EquipmentCodes.BadReply, $"\"{command}\" answered nothing where a number was expected");
    }

    private static string Shown(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
