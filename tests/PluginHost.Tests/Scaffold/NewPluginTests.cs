using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using PluginHost.Contracts;
using PluginHost.Contracts.Testing;
using Xunit;
using Xunit.Abstractions;

namespace PluginHost.Tests.Scaffold;

/// <summary>
/// <c>pluginhost new plugin</c> as a plugin author meets it, for every kind: the plugin is made from
/// the checkout's template pack, builds, passes its own contract tests (the kit), loads into a real
/// host whose unit runs, and a changed build is taken up with the unit's process unchanged — a
/// hot reload for a unit kind, the next run of the same worker for a driver or a steps package.
/// </summary>
public sealed class NewPluginTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BuildDeadline = TimeSpan.FromMinutes(5);
    private static readonly string TemplateFolder = Path.Combine(RepositoryLayout.Root, "tools", "PluginHost.Templates", "content", "plugin");

    [Theory]
    [InlineData("sidecar", "Acme.Sidecar", "acme-sidecar")]
    [InlineData("pty", "Acme.Console", "acme-console")]
    [InlineData("driver", "Acme.Dmm", "acme-dmm")]
    [InlineData("station-step", "Acme.BoardChecks", "acme-board-checks")]
    public async Task A_new_plugin_builds_passes_its_contract_kit_runs_in_a_host_and_a_changed_build_is_taken_up_with_the_same_process(string kind, string name, string pluginName)
    {
        await using var env = new HostUnderTest("new-plugin");
        var folder = env.Dir.Combine(name);
        var clock = Stopwatch.StartNew();

        var (code, printed) = await HostProcess.RunAsync(env.Dir.Path, "new", "plugin", name, "--kind", kind);
        Assert.True(code == 0, printed);
        Assert.Contains("dotnet build", printed, StringComparison.Ordinal);
        Assert.Contains("dotnet test", printed, StringComparison.Ordinal);
        Assert.Contains("run --manifests manifests", printed, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "README.md")), "the plugin's README");
        var made = clock.Elapsed;

        await DotnetAsync(folder, "build");
        var built = clock.Elapsed;
        var tests = await DotnetAsync(folder, "test", "--no-build");
        Assert.Contains("Failed:     0", tests, StringComparison.Ordinal);
        var green = clock.Elapsed;

        var device = HostProcess.FreePort();
        foreach (var manifest in Directory.GetFiles(Path.Combine(folder, "manifests"), "*.yaml"))
        {
            // Ports chosen now: the examples name fixed ones (8080, 5025) an author would use.
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("8080", HostProcess.FreePort().ToString(), StringComparison.Ordinal)
                .Replace("5025", device.ToString(), StringComparison.Ordinal));
        }

        var host = env.Adopt(HostProcess.Start(folder, "run", "--manifests", "manifests", "--urls", $"http://127.0.0.1:{env.Port}"));
        var unit = kind is "sidecar" or "pty" ? pluginName : pluginName + "-station";
        var pid = await ReadyAsync(env, unit, host);
        var loaded = clock.Elapsed;

        if (kind is "sidecar" or "pty")
        {
            // The author changes the plugin (a new version, a new remedy) and builds it again.
            Edit(Path.Combine(folder, "src", name, "plugin.yaml"), "version: 0.1.0", "version: 0.2.0");
            Edit(Path.Combine(folder, "src", name, name.Replace(".", "", StringComparison.Ordinal) + "Driver.cs"), "the host restarts the unit", "the host restarts this unit");
            await DotnetAsync(folder, "build", Path.Combine("src", name), "--no-dependencies");

            await Eventually.TrueAsync(() => Plugin(env, pluginName).GetProperty("version").GetString() == "0.2.0", Deadline, $"version 0.2.0 of {pluginName} loaded\n{host.Output}");
            bool HandedOver(JsonElement e) => e.GetProperty("unit").GetString() == unit && e.GetProperty("summary").GetString()!.EndsWith("to version 0.2.0", StringComparison.Ordinal);
            await Eventually.TrueAsync(() => env.Events("unit_handed_over").Any(HandedOver), Deadline, $"{unit} handed over to version 0.2.0");
            Assert.Equal((pid, "ready"), UnitOf(env, unit));
        }
        else
        {
            var first = await RunSequenceAsync(env, unit, host);
            if (kind == "driver")
            {
                Assert.Equal("PASS", first.Verdict);
                Assert.Equal("Acme,Sample-1,SN0001,1.0", first.Replies["identify"]);
                Edit(Path.Combine(folder, "src", name, "AcmeDmmInstrument.cs"), "return new EquipmentReply(line,", "return new EquipmentReply(line.ToUpperInvariant(),");
            }
            else
            {
                Assert.Equal("PASS", first.Verdict); // SN-0001 is a known serial
                Edit(Path.Combine(folder, "src", name, "AcmeBoardChecksSteps.cs"), "serial != \"SN-0000\"", "serial != \"SN-0001\"");
            }

            await DotnetAsync(folder, "build", Path.Combine("src", name), "--no-dependencies");
            var second = await RunSequenceAsync(env, unit, host);
            if (kind == "driver")
            {
                Assert.Equal("ACME,SAMPLE-1,SN0001,1.0", second.Replies["identify"]);
            }
            else
            {
                Assert.Equal("FAIL", second.Verdict);
            }

            Assert.Equal((pid, "ready"), UnitOf(env, unit)); // the same worker ran both
        }

        output.WriteLine($"{kind}: made {made.TotalSeconds:F1} s, built {built.TotalSeconds:F1} s, tests green {green.TotalSeconds:F1} s, loaded and running {loaded.TotalSeconds:F1} s, changed build taken up {clock.Elapsed.TotalSeconds:F1} s");
        host.Terminate();
        Assert.Equal(0, await host.WaitForExitAsync(Deadline));
    }

    [Theory]
    [InlineData("acme-dmm")]
    [InlineData("Acme.dmm")]
    [InlineData("1Acme")]
    [InlineData("Acme..Dmm")]
    [InlineData("Acme/Dmm")]
    public async Task A_name_that_is_no_csharp_namespace_is_refused_before_anything_is_written(string name)
    {
        using var dir = new TempDirectory("new-plugin");
        var (code, printed) = await HostProcess.RunAsync(dir.Path, "new", "plugin", name);
        Assert.Equal(2, code);
        Assert.Contains($"\"{name}\" is not a plugin name", printed, StringComparison.Ordinal);
        Assert.Contains("e.g. Acme.Dmm", printed, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task A_bad_kind_a_folder_in_use_and_a_root_that_is_no_checkout_are_clear_errors()
    {
        using var dir = new TempDirectory("new-plugin");
        var badKind = await HostProcess.RunAsync(dir.Path, "new", "plugin", "Acme.Dmm", "--kind", "daemon");
        Assert.Equal(2, badKind.ExitCode);
        Assert.Contains("'daemon' not recognized", badKind.Output, StringComparison.Ordinal);
        Assert.Contains("station-step", badKind.Output, StringComparison.Ordinal);

        dir.Write("Acme.Dmm/notes.txt", "mine");
        var inUse = await HostProcess.RunAsync(dir.Path, "new", "plugin", "Acme.Dmm");
        Assert.Equal(1, inUse.ExitCode);
        Assert.Contains("already exists and is not empty; nothing was written", inUse.Output, StringComparison.Ordinal);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(dir.Combine("Acme.Dmm")).Select(Path.GetFileName));

        var noCheckout = await HostProcess.RunAsync(dir.Path, "new", "plugin", "Acme.Other", "--root", dir.Path);
        Assert.Equal(2, noCheckout.ExitCode);
        Assert.Contains("is not a PluginHost checkout", noCheckout.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.Combine("Acme.Other")));
    }

    [Fact]
    public void The_template_is_built_against_this_checkouts_contracts_and_test_packages()
    {
        var descriptor = File.ReadAllText(Path.Combine(TemplateFolder, "src", "Acme.Sample", "plugin.yaml"));
        Assert.Contains($"contracts: \"{ContractsVersion.Major}.{ContractsVersion.Minor}\"", descriptor, StringComparison.Ordinal);

        static Dictionary<string, string> Versions(string file) => XDocument.Load(file).Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!);
        var ours = Versions(Path.Combine(RepositoryLayout.Root, "Directory.Packages.props"));
        foreach (var (package, version) in Versions(Path.Combine(TemplateFolder, "Directory.Packages.props")))
        {
            Assert.True(ours.GetValueOrDefault(package) == version, $"the template pins {package} {version}; the checkout builds the contract kit with {ours.GetValueOrDefault(package) ?? "none"}");
        }
    }

    private static void Edit(string file, string from, string to)
    {
        var text = File.ReadAllText(file);
        Assert.True(text.Contains(from, StringComparison.Ordinal), $"{file} no longer holds \"{from}\": change the test with the template");
        File.WriteAllText(file, text.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>
    /// dotnet as an author runs it, without what the test runner's own dotnet left in the environment
    /// (MSBuild and VSTest settings); no build server or node is left behind when it ends.
    /// </summary>
    private static async Task<string> DotnetAsync(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(variable);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(BuildDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} took over {BuildDeadline.TotalMinutes} min:\n{await stdout}{await stderr}");
        }

        var text = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{text}");
        return text;
    }

    private static async Task<int> ReadyAsync(HostUnderTest env, string unit, HostProcess host)
    {
        await Eventually.TrueAsync(() => env.UnitIs(unit, "ready"), Deadline, $"{unit} ready\n{host.Output}");
        return UnitOf(env, unit).Pid;
    }

    private static (int Pid, string State) UnitOf(HostUnderTest env, string unit)
    {
        var status = env.Unit(unit) ?? throw new Xunit.Sdk.XunitException($"the host has no unit {unit}");
        return (status.GetProperty("pid").GetInt32(), status.GetProperty("state").GetString()!);
    }

    private static JsonElement Plugin(HostUnderTest env, string name) =>
        env.Http.GetFromJsonAsync<JsonElement>("/api/plugins").Result.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    /// <summary>One execution through the unit's operation, to its end: its verdict and each query step's reply.</summary>
    private static async Task<(string Verdict, Dictionary<string, string> Replies)> RunSequenceAsync(HostUnderTest env, string unit, HostProcess host)
    {
        using var started = await env.Http.PostAsJsonAsync($"/api/units/{unit}/ops/startSequence", new { });
        var answer = await started.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(started.IsSuccessStatusCode, answer.ToString());
        var execution = answer.GetProperty("data").GetProperty("execution").GetString();
        bool Of(JsonElement e) => e.GetProperty("payload").TryGetProperty("execution", out var id) && id.GetString() == execution;
        await Eventually.TrueAsync(() => env.Events("station_sequence_complete").Any(Of), Deadline, $"execution {execution} to complete\n{host.Output}");
        var end = env.Events("station_sequence_complete").Single(Of);
        var replies = env.Events("station_step_complete").Where(Of).Select(e => e.GetProperty("payload"))
            .Where(p => p.TryGetProperty("reply", out _)).ToDictionary(p => p.GetProperty("step").GetString()!, p => p.GetProperty("reply").GetString()!);
        return (end.GetProperty("payload").GetProperty("verdict").GetString()!, replies);
    }
}
