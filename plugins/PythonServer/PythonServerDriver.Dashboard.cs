using System.Globalization;
using System.Text.Json;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.PythonServer;

/// <summary>What the dashboard shows of a python-server unit: its "open" link and its events in words.</summary>
internal sealed partial class PythonServerDriver
{
    /// <summary>A serving app links to its API docs (FastAPI's /docs), as the seed's server card had "open".</summary>
    public IReadOnlyList<UnitLink> Links(IUnitContext context) =>
        context.Control.State == UnitState.Ready && Port(context) is { } port
            ? [new UnitLink("open", string.Create(CultureInfo.InvariantCulture, $"http://{{host}}:{port}/docs")) { Title = "the server's API docs" }]
            : [];

    public string? Summarize(string kind, JsonElement payload) => kind switch
    {
        "python-server-status" => PayloadText.Of(payload, "status") + (PayloadText.Has(payload, "port") ? $" on port {PayloadText.Of(payload, "port")}" : "") + (PayloadText.Has(payload, "lastError") ? $" — {PayloadText.Of(payload, "lastError")}" : ""),
        "python-server-ready" => $"serving on port {PayloadText.Of(payload, "port")} (pid {PayloadText.Of(payload, "pid")})",
        "python-server-stopped" => PayloadText.Has(payload, "signal") ? $"stopped by {PayloadText.Of(payload, "signal")}" : $"exited with code {PayloadText.Of(payload, "code")}",
        _ => null,
    };
}
