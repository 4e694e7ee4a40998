using System.Globalization;

namespace PluginHost.Contracts.Specs;

/// <summary>
/// Durations as operators write them: <c>250ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, <c>1.5s</c>, or a
/// bare number of seconds. One parser for the host and every plugin, so they agree.
/// </summary>
public static class Duration
{
    public const string Expected = "a duration such as 500ms, 5s, 2m or 1h";

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        var (number, unit) = Split(s);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || double.IsNaN(amount) || double.IsInfinity(amount) || amount < 0)
        {
            return false;
        }

        double? ms = unit switch
        {
            "ms" => amount,
            "" or "s" => amount * 1000,
            "m" => amount * 60_000,
            "h" => amount * 3_600_000,
            _ => null,
        };
        if (ms is null || ms > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(ms.Value);
        return true;
    }

    public static string Format(TimeSpan value) => value.TotalMilliseconds switch
    {
        var ms when ms % 3_600_000 == 0 && ms > 0 => $"{ms / 3_600_000}h",
        var ms when ms % 60_000 == 0 && ms > 0 => $"{ms / 60_000}m",
        var ms when ms % 1000 == 0 => $"{ms / 1000}s",
        var ms => $"{ms.ToString(CultureInfo.InvariantCulture)}ms",
    };

    private static (string Number, string Unit) Split(string s)
    {
        var i = s.Length;
        while (i > 0 && char.IsAsciiLetter(s[i - 1]))
        {
            i--;
        }

        return (s[..i], s[i..].ToLowerInvariant());
    }
}
