using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace PluginHost.Cli.Client;

/// <summary><c>pluginhost status [NAME]</c>: the units of a running host, or one unit in detail. Exit 1 when a shown unit has failed.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("name") { Description = "One unit to show in detail.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Show the units of a running host: state, pid, port, uptime, CPU, memory, restarts, last error.") { name, ClientCommand.Json };
        ClientCommand.SetAction(command, async (parse, client, cancellationToken) =>
        {
            var unit = parse.GetValue(name);
            var json = await client.GetAsync(unit is null ? "/api/units" : "/api/units/" + ClientCommand.Path(unit), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(ClientCommand.Json))
            {
                Console.WriteLine(json.GetRawText());
            }
            else if (unit is null)
            {
                RenderTable(json);
            }
            else
            {
                RenderDetail(json);
            }

            var units = unit is null ? json.EnumerateArray().ToArray() : [json];
            return units.Any(u => UnitView.Text(u, "state") == "failed") ? ExitCodes.Problems : ExitCodes.Ok;
        });
        return command;
    }

    private static void RenderTable(JsonElement units)
    {
        if (units.GetArrayLength() == 0)
        {
            AnsiConsole.MarkupLine("No units. Add a manifest to the manifests folder (docs/manifests.md).");
            return;
        }

        // Every column that fits the terminal, most useful first: a unit's row stays one line wide
        // on an 80-column terminal (the kind, uptime and restarts go first; `status NAME` has them all).
        var width = AnsiConsole.Profile.Width;
        var columns = new List<(string Title, bool Right, Func<JsonElement, string> Cell)>
        {
            ("Unit", false, u => Markup.Escape(UnitView.Text(u, "name"))),
            ("State", false, u => UnitView.State(UnitView.Text(u, "state"))),
            ("PID", true, u => UnitView.Text(u, "pid")),
            ("Port", true, u => UnitView.Ports(u.GetProperty("ports"))),
            ("CPU", true, u => UnitView.Cpu(u.GetProperty("cpuPercent"))),
            ("RSS", true, u => UnitView.Rss(u.GetProperty("rssBytes"))),
            ("Last error", false, u => UnitView.Error(u, withRemedy: false)),
        };
        if (width >= 100)
        {
            columns.Insert(1, ("Kind", false, u => Markup.Escape(UnitView.Text(u, "kind"))));
            columns.Insert(5, ("Uptime", true, u => UnitView.Uptime(u.GetProperty("uptimeSeconds"))));
            columns.Insert(8, ("Restarts", true, u => UnitView.Text(u, "restarts")));
        }

        var table = new Table().Border(width >= 100 ? TableBorder.Rounded : TableBorder.Simple);
        foreach (var (title, right, _) in columns)
        {
            var column = new TableColumn(title);
            table.AddColumn(right ? column.RightAligned().NoWrap() : title == "Unit" || title == "State" ? column.NoWrap() : column);
        }

        foreach (var u in units.EnumerateArray())
        {
            table.AddRow([.. columns.Select(c => c.Cell(u))]);
        }

        AnsiConsole.Write(table);

        // The table keeps each row to one line; what to do about each error goes below it.
        foreach (var u in units.EnumerateArray())
        {
            if (u.TryGetProperty("lastError", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                AnsiConsole.MarkupLine($"{Markup.Escape(UnitView.Text(u, "name"))} [grey]→ {Markup.Escape(UnitView.Text(error, "remedy"))}[/]");
            }
        }
    }

    private static void RenderDetail(JsonElement u)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string label, string value) => grid.AddRow($"[grey]{label}[/]", value);
        Row("unit", $"[bold]{Markup.Escape(UnitView.Text(u, "name"))}[/] ({Markup.Escape(UnitView.Text(u, "kind"))}, plugin {Markup.Escape(UnitView.Text(u.GetProperty("plugin"), "name"))} {Markup.Escape(UnitView.Text(u.GetProperty("plugin"), "version"))})");
        Row("state", UnitView.State(UnitView.Text(u, "state")) + $" [grey]{Markup.Escape(UnitView.Text(u, "reason"))}[/]");
        Row("pid", UnitView.Text(u, "pid"));
        Row("ports", UnitView.Ports(u.GetProperty("ports")));
        Row("uptime", UnitView.Uptime(u.GetProperty("uptimeSeconds")));
        Row("cpu / rss", $"{UnitView.Cpu(u.GetProperty("cpuPercent"))} / {UnitView.Rss(u.GetProperty("rssBytes"))}");
        if (u.TryGetProperty("gauges", out var gauges) && gauges.ValueKind == JsonValueKind.Object)
        {
            // What the unit's kind measures itself, e.g. a GPU's memory (gpu_memory_bytes).
            Row("gauges", Markup.Escape(string.Join("  ", gauges.EnumerateObject().Select(g => $"{g.Name}={g.Value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture)}"))));
        }
        Row("restarts", UnitView.Text(u, "restarts"));
        if (UnitView.Error(u, withRemedy: true) is { Length: > 0 } error)
        {
            Row("last error", error);
        }

        if (u.TryGetProperty("env", out var env) && env.EnumerateObject().Any())
        {
            Row("env", Markup.Escape(string.Join("  ", env.EnumerateObject().Select(e => $"{e.Name}={e.Value.GetString()}"))));
        }

        if (u.TryGetProperty("operations", out var ops) && ops.GetArrayLength() > 0)
        {
            Row("operations", Markup.Escape(string.Join(", ", ops.EnumerateArray().Select(o => o.GetProperty("name").GetString()))));
        }

        AnsiConsole.Write(grid);
    }
}
