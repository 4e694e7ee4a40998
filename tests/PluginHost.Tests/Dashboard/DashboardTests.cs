using Microsoft.Playwright;
using PluginHost.Contracts.Testing;
using Xunit;

namespace PluginHost.Tests.Dashboard;

/// <summary>
/// The dashboard end to end: the real host serving it, Debian's Chromium (headless) driven by
/// Playwright clicking like an operator. Keeps a screenshot in artifacts/reports/dashboard.png.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("dashboard");
    private HostProcess? _host;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string _url = "";

    public async Task InitializeAsync()
    {
        Prerequisite.Program(Chromium, "chromium");
        Prerequisite.PythonWithUvicorn();
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("process"), _dir.Combine("plugins"));
        _dir.Write("manifests/host.yaml", "apiVersion: pluginhost/v1\nplugins: { directories: [../plugins], watch: false }\nmanifests: { watch: false }\n");
        _dir.Write("manifests/ticker.yaml", """
            apiVersion: pluginhost/v1
            kind: process
            name: ticker
            spec: { command: /bin/bash, args: ["-c", "i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep 0.1; done"] }
            """);
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("python-server"), _dir.Combine("plugins"));
        _dir.Write("app/main.py", File.ReadAllText(Path.Combine(RepositoryLayout.Root, "samples", "hello-api", "main.py")));
        _dir.Write("manifests/api.yaml", $"apiVersion: pluginhost/v1\nkind: python-server\nname: api\nspec: {{ app: main:app, appDir: ../app, python: /usr/bin/python3, port: {HostProcess.FreePort()} }}\n");
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("pty-session"), _dir.Combine("plugins"));
        _dir.Write("manifests/shell.yaml", """
            apiVersion: pluginhost/v1
            kind: pty-session
            name: shell
            spec: { command: /bin/bash, args: ["-c", "echo SHELL-READY; while read -r line; do eval \"$line\"; done"] }
            """);
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("sample"), _dir.Combine("plugins"));
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("panel-demo-v1"), _dir.Combine("plugins"), "panel-demo");
        _dir.Write("manifests/demo.yaml", "apiVersion: pluginhost/v1\nkind: panel-demo\nname: demo\n");
        _dir.Write("manifests/gauged.yaml", "apiVersion: pluginhost/v1\nkind: sample\nname: gauged\nspec: { message: hi }\n");
        RepositoryLayout.CopyPlugin(RepositoryLayout.Plugin("station-batch"), _dir.Combine("plugins"));
        var artifacts = Path.Combine(RepositoryLayout.Root, "artifacts");
        _dir.Write("manifests/line1.yaml", $"""
            apiVersion: pluginhost/v1
            kind: station-batch
            name: line1
            spec:
              sequence: {Path.Combine(RepositoryLayout.Root, "samples", "station", "pcb-power")}
              drivers: {Path.Combine(artifacts, "drivers")}
              worker: {Path.Combine(artifacts, "station-worker")}
              hardware:
                psu: {"{"} driver: sim-psu, options: {"{"} seed: "7" {"}"} {"}"}
                dmm: {"{"} driver: sim-dmm, options: {"{"} seed: "7", rails: "3V3=3.30,5V0=5.19,1V8=1.93" {"}"} {"}"}
            """);
        foreach (var (name, autostart) in new[] { ("doomed", "true"), ("late", "false") })
        {
            _dir.Write($"manifests/{name}.yaml", $"apiVersion: pluginhost/v1\nkind: process\nname: {name}\nautostart: {autostart}\n"
                + "restart: { policy: on-failure, backoff: { initial: 50ms }, minInterval: 0s, limit: { restarts: 1, window: 1m } }\nspec: { command: /bin/sh, args: [-c, 'exit 3'] }\n");
        }

        _dir.Write("manifests/sleeper.yaml", "apiVersion: pluginhost/v1\nkind: process\nname: sleeper\nspec: { command: /bin/sleep, args: ['300'] }\n");
        var port = HostProcess.FreePort();
        _url = $"http://127.0.0.1:{port}";
        _host = HostProcess.Start(_dir.Path, "run", "--manifests", "manifests", "--data", "data", "--urls", _url);

        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does)");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Alerts_show_in_their_own_card_those_raised_before_the_page_and_those_raised_while_it_is_open()
    {
        var page = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
        await Eventually.TrueAsync(() => http.GetStringAsync("/api/alerts").Result.Contains("doomed", StringComparison.Ordinal), Deadline, "doomed's alert");
        await page.GotoAsync(_url + "/");
        var card = page.Locator("#alerts-card");
        await Assertions.Expect(card).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#alerts li[data-code=UNIT_GAVE_UP]", new() { HasText = "doomed" })).ToHaveCountAsync(1);

        using var started = await http.PostAsync("/api/units/late/start", null);
        await Assertions.Expect(page.Locator("#alerts li[data-code=UNIT_GAVE_UP]", new() { HasText = "late" })).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        Assert.Contains("logs", await page.Locator("#alerts li", new() { HasText = "late" }).Locator(".remedy").TextContentAsync() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_restarts_a_unit_watches_its_logs_and_events_and_the_page_stays_put()
    {
        var page = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        await GoToDashboardAsync(page);

        var row = page.Locator("tr[data-unit=\"ticker\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("live", new() { Timeout = (float)Deadline.TotalMilliseconds });
        var pidBefore = await row.Locator(".pid").InnerTextAsync();
        var boxBefore = await row.BoundingBoxAsync();
        var errorCellBefore = await row.Locator(".error").BoundingBoxAsync();
        await page.EvaluateAsync("""
            () => {
              window.__seen = [];
              const badge = document.querySelector('tr[data-unit="ticker"] .state');
              new MutationObserver(() => window.__seen.push(badge.textContent)).observe(badge, { childList: true, characterData: true, subtree: true });
            }
            """);

        await row.Locator("button[data-action=\"restart\"]").ClickAsync();
        await page.WaitForFunctionAsync(
            $"() => {{ const r = document.querySelector('tr[data-unit=\"ticker\"]'); return r.querySelector('.state').textContent === 'ready' && r.querySelector('.pid').textContent !== '{pidBefore}'; }}",
            null, new() { Timeout = (float)Deadline.TotalMilliseconds });
        var seen = await page.EvaluateAsync<string[]>("() => window.__seen");
        var boxAfter = await row.BoundingBoxAsync();
        var errorCellAfter = await row.Locator(".error").BoundingBoxAsync();

        // The log viewer follows the selected unit; the filter narrows it.
        await row.Locator(".name").ClickAsync();
        await page.Locator("#log[data-following]").WaitForAsync(new() { Timeout = (float)Deadline.TotalMilliseconds }); // the backlog is all in
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"tick \d+"), new() { Timeout = (float)Deadline.TotalMilliseconds });
        await page.Locator("#log-filter").FillAsync("tick 1");
        var filtered = await page.Locator("#log > div").AllInnerTextsAsync();
        await page.Locator("#log-filter").FillAsync("");
        var beforeClear = await page.Locator("#log > div").AllInnerTextsAsync();
        await page.Locator("#log-clear").ClickAsync();
        var afterClear = await page.Locator("#log > div").AllInnerTextsAsync();
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync("tick", new() { Timeout = (float)Deadline.TotalMilliseconds });

        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("unit_state · ticker", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#plugins tr[data-plugin=\"process\"]")).ToContainTextAsync("1.0.0", new() { Timeout = (float)Deadline.TotalMilliseconds });
        var reports = Path.Combine(RepositoryLayout.Root, "artifacts", "reports");
        Directory.CreateDirectory(reports);
        await page.ScreenshotAsync(new() { Path = Path.Combine(reports, "dashboard.png"), FullPage = true });

        var restarting = Array.IndexOf(seen, "restarting");
        Assert.True(restarting >= 0, "the row showed restarting: " + string.Join(" → ", seen));
        Assert.Contains("ready", seen[restarting..]);
        Assert.Equal(boxBefore!.Height, boxAfter!.Height);
        Assert.Equal((errorCellBefore!.X, errorCellBefore.Width), (errorCellAfter!.X, errorCellAfter.Width));
        Assert.NotEmpty(filtered);
        Assert.All(filtered, line => Assert.Contains("tick 1", line, StringComparison.Ordinal));
        // Each line shows its capture time: a line seen before the clear never shows again, new ones may arrive at once.
        Assert.True(beforeClear.Count > 0 && !afterClear.Intersect(beforeClear).Any(), $"clear emptied the viewer; still shown: {string.Join(" | ", afterClear.Intersect(beforeClear))}");
        Assert.True(consoleErrors.Count == 0, "browser console errors:\n" + string.Join("\n", consoleErrors));
    }

    [Fact]
    public async Task Stopping_and_starting_from_the_dashboard_drives_the_unit_and_the_buttons_follow_its_state()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);
        var row = page.Locator("tr[data-unit=\"sleeper\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });

        await row.Locator("button[data-action=\"stop\"]").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("stopped", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("button[data-action=\"start\"]")).ToBeEnabledAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("button[data-action=\"stop\"]")).ToBeDisabledAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });
        await row.Locator("button[data-action=\"start\"]").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("button[data-action=\"start\"]")).ToBeDisabledAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });

        Assert.NotEqual("–", await row.Locator(".pid").InnerTextAsync());
    }

    [Fact]
    public async Task A_units_gauges_are_in_its_memory_cells_tooltip_and_bytes_gauges_show_beside_RSS()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);

        // Rendered from the live status: the sample kind measures its pid as the gauge sample_pid.
        var row = page.Locator("tr[data-unit=\"gauged\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });
        var pid = await row.Locator(".pid").InnerTextAsync();
        await Assertions.Expect(row.Locator(".rss")).ToHaveAttributeAsync("title", $"sample_pid = {pid}", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator(".rss")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d MB$"));

        var memory = await page.EvaluateAsync<string>("() => fmt.memory(104857600, { gpu_memory_bytes: 1610612736, queue_depth: 3 })");
        var none = await page.EvaluateAsync<string>("() => fmt.memory(104857600, null)");
        var tooltip = await page.EvaluateAsync<string>("() => fmt.gauges({ gpu_memory_bytes: 1610612736, queue_depth: 3 })");

        Assert.Equal("100.0 MB · gpu memory 1536.0 MB", memory);
        Assert.Equal("100.0 MB", none);
        Assert.Equal("gpu_memory_bytes = 1610612736\nqueue_depth = 3", tooltip);
    }

    [Fact]
    public async Task A_plugins_panel_shows_for_its_unit_speaks_to_its_routes_and_changes_with_a_hot_reload()
    {
        var page = await _browser!.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        await GoToDashboardAsync(page);
        var row = page.Locator("tr[data-unit=\"demo\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });

        await row.Locator(".name").ClickAsync();
        await Assertions.Expect(page.Locator("#panel .demo-panel")).ToHaveTextAsync("panel v1 for demo, routes v1", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("a.open")).ToHaveTextAsync("demo v1 ↗");
        Assert.EndsWith(":1/demo", await row.Locator("a.open").GetAttributeAsync("href"), StringComparison.Ordinal); // {host} filled in by the page
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("the demo v1 is ready", new() { Timeout = (float)Deadline.TotalMilliseconds });

        // A new build of the plugin: its panel, link and routes change on the open page, the unit runs on.
        RepositoryLayout.CopyPlugin(RepositoryLayout.TestPlugin("panel-demo-v2"), _dir.Combine("plugins"), "panel-demo");
        using (var http = new HttpClient { BaseAddress = new Uri(_url) })
        {
            using var reload = await http.PostAsync("/api/plugins/panel-demo/reload", null);
            Assert.True(reload.IsSuccessStatusCode, await reload.Content.ReadAsStringAsync());
        }

        await Assertions.Expect(page.Locator("#panel .demo-panel")).ToHaveTextAsync("panel v2 for demo, routes v2", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("a.open")).ToHaveTextAsync("demo v2 ↗", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#panel h3")).ToHaveTextAsync("panel-demo 2.0.0");
        Assert.True(consoleErrors.Count == 0, "browser console errors:\n" + string.Join("\n", consoleErrors));
    }

    [Fact]
    public async Task The_real_plugins_panels_load_for_their_units()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);

        await page.Locator("tr[data-unit=\"api\"] .name").ClickAsync();
        await Assertions.Expect(page.Locator("#panel dd[data-field=\"status\"]")).ToHaveTextAsync("running", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await page.Locator("tr[data-unit=\"shell\"] .name").ClickAsync();
        await Assertions.Expect(page.Locator("#panel button[data-signal=\"INT\"]")).ToBeVisibleAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });
        await page.Locator("tr[data-unit=\"sleeper\"] .name").ClickAsync();
        await Assertions.Expect(page.Locator("#panel")).ToBeHiddenAsync(new() { Timeout = (float)Deadline.TotalMilliseconds }); // the process plugin has none
    }

    [Fact]
    public async Task A_station_batch_is_started_from_its_panel_with_parameters_and_its_steps_show_as_they_complete()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);
        var row = page.Locator("tr[data-unit=\"line1\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });

        await row.Locator(".name").ClickAsync();
        await Assertions.Expect(page.Locator("#panel dd[data-field=\"state\"]")).ToHaveTextAsync("idle", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await page.Locator("#panel textarea[data-field=\"params\"]").FillAsync("{\"dut_serial\": \"SN-0099\", \"vin\": 12}");
        await page.Locator("#panel button[data-op=\"startSequence\"]").ClickAsync();

        await Assertions.Expect(page.Locator("#panel .verdict")).ToContainTextAsync(": FAIL", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#panel tr[data-step]")).ToHaveCountAsync(9);
        await Assertions.Expect(page.Locator("#panel tr[data-step=\"rail_1v8\"]")).ToHaveAttributeAsync("data-outcome", "FAIL");
        await Assertions.Expect(page.Locator("#panel tr[data-step=\"rail_5v0\"]")).ToContainTextAsync("(marginal)");
        await Assertions.Expect(page.Locator("#panel tr[data-step=\"rail_3v3\"]")).ToContainTextAsync("[3.135, 3.465]");
        await Assertions.Expect(page.Locator("#panel dd[data-field=\"last verdict\"]")).ToHaveTextAsync("FAIL", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#panel [data-field=\"current\"]")).ToContainTextAsync(" against ");
        Assert.Equal("1", await page.Locator("#panel progress[data-field=\"progress\"]").EvaluateAsync<string>("p => String(p.value)"));

        // The stored result, from the station API's results, filtered; and where the results go.
        await Assertions.Expect(page.Locator("#panel tr[data-result]")).ToHaveCountAsync(1, new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#panel tr[data-result]")).ToHaveAttributeAsync("data-verdict", "FAIL");
        await Assertions.Expect(page.Locator("#panel tr[data-result]")).ToContainTextAsync("SN-0099");
        await page.Locator("#panel input[data-field=\"filter-serial\"]").FillAsync("SN-NONE");
        await page.Locator("#panel button[data-op=\"results\"]").ClickAsync();
        await Assertions.Expect(page.Locator("#panel table.results")).ToContainTextAsync("no results");
        await Assertions.Expect(page.Locator("#panel [data-field=\"sync\"]")).ToContainTextAsync("no station-sync unit", new() { Timeout = (float)Deadline.TotalMilliseconds });

        // A parameter out of its limits is the worker's coded refusal, shown as the operator's error.
        await page.Locator("#panel textarea[data-field=\"params\"]").FillAsync("{\"vin\": 99}");
        await page.Locator("#panel button[data-op=\"startSequence\"]").ClickAsync();
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("outside [5, 24] V", new() { Timeout = (float)Deadline.TotalMilliseconds });
        var reports = Path.Combine(RepositoryLayout.Root, "artifacts", "reports");
        Directory.CreateDirectory(reports);
        await page.ScreenshotAsync(new() { Path = Path.Combine(reports, "dashboard-station.png"), FullPage = true });
    }

    [Fact]
    public async Task A_python_server_row_links_to_the_running_server()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);
        var row = page.Locator("tr[data-unit=\"api\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await Assertions.Expect(row.Locator("a.open")).ToBeVisibleAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });

        var port = await row.Locator(".port").InnerTextAsync();
        var href = await row.Locator("a.open").GetAttributeAsync("href");
        using var http = new HttpClient();
        var docs = await http.GetAsync(href);

        Assert.Equal($"http://127.0.0.1:{port}/docs", href);
        Assert.True(docs.IsSuccessStatusCode, $"{href} answered {docs.StatusCode}");
    }

    [Fact]
    public async Task A_pty_session_shows_its_terminal_and_a_typed_line_runs_in_it()
    {
        var page = await _browser!.NewPageAsync();
        await GoToDashboardAsync(page);
        var row = page.Locator("tr[data-unit=\"shell\"]");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("ready", new() { Timeout = (float)Deadline.TotalMilliseconds });

        await row.Locator(".name").ClickAsync();
        await Assertions.Expect(page.Locator("#term-out")).ToContainTextAsync("SHELL-READY", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await page.Locator("#term-input").FillAsync("echo typed-$((40+2)) on $(tty)");
        await page.Locator("#term-input").PressAsync("Enter");

        await Assertions.Expect(page.Locator("#term-out")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"typed-42 on /dev/pts/\d+"), new() { Timeout = (float)Deadline.TotalMilliseconds });
        var reports = Path.Combine(RepositoryLayout.Root, "artifacts", "reports");
        Directory.CreateDirectory(reports);
        await page.ScreenshotAsync(new() { Path = Path.Combine(reports, "dashboard-terminal.png"), FullPage = true });
        await page.Locator("tr[data-unit=\"sleeper\"] .name").ClickAsync();
        await Assertions.Expect(page.Locator("#terminal")).ToBeHiddenAsync();
    }

    private async Task GoToDashboardAsync(IPage page)
    {
        await Eventually.TrueAsync(() => Answers(), Deadline, "the host to serve the dashboard\n" + _host!.Output);
        await page.GotoAsync(_url + "/");
    }

    private bool Answers()
    {
        using var http = new HttpClient();
        return http.GetAsync(_url + "/api/units").Result.IsSuccessStatusCode;
    }
}
