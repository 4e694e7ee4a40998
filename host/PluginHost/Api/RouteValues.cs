namespace PluginHost.Api;

/// <summary>The <c>{parameter}</c> segments of the matched route.</summary>
internal sealed class RouteValues(IReadOnlyDictionary<string, string> values)
{
    public static readonly RouteValues None = new(new Dictionary<string, string>());

    /// <exception cref="KeyNotFoundException">The route's template has no such parameter (a programming error).</exception>
    public string this[string name] => values[name];
}
