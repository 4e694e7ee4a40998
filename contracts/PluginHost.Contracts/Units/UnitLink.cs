namespace PluginHost.Contracts.Units;

/// <summary>
/// A link a unit offers its operators (since 1.5), shown beside it on the dashboard: a web server's
/// "open" page, its API docs. <c>{host}</c> in <see cref="Url"/> becomes the host name the dashboard
/// was reached at (so a link works from another machine too).
/// </summary>
public sealed record UnitLink(string Label, string Url)
{
    /// <summary>What the link shows, as a tooltip.</summary>
    public string? Title { get; init; }
}
