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

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Unit", "Kind", "State", "PID", "Port", "Uptime", "CPU", "RSS", "Restarts", "Last error");
        foreach (var index in new[] { 3, 4, 5, 6, 7, 8 })
        {
            table.Columns[index].RightAligned();
        }

        foreach (var u in units.EnumerateArray())
        {
            table.AddRow(Markup.Escape(UnitView.Text(u, "name")), Markup.Escape(UnitView.Text(u, "kind")), UnitView.State(UnitView.Text(u, "state")),
                UnitView.Text(u, "pid"), UnitView.Ports(u.GetProperty("ports")), UnitView.Uptime(u.GetProperty("uptimeSeconds")),
                UnitView.Cpu(u.GetProperty("cpuPercent")), UnitView.Rss(u.GetProperty("rssBytes")), UnitView.Text(u, "restarts"), UnitView.Error(u, withRemedy: false));
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
            // What the unit's kind measures itself, e.g. shimmy's gpu_memory_bytes.
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
