using System.Text.Json.Nodes;
using PluginHost.Contracts.Formats;
using PluginHost.Contracts.Supervision;
using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using PluginHost.Plugins.Launchd.Formats;
using Xunit;

namespace PluginHost.Plugins.Launchd.Tests;

/// <summary>
/// plist import and export, and systemd export, checked by the real peers: plistlib reads what is
/// written and compares meaning with the original; systemd's own verifier accepts every unit.
/// </summary>
public sealed class UnitFormatTests : IDisposable
{
    private static readonly string Example = Path.Combine(RepositoryLayout.Root, "samples", "launchd-classroom");
    private readonly TempDirectory _temp = new("formats");
    private readonly PlistFormat _plist = new();
    private readonly SystemdFormat _systemd = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_example_folders_manifests_are_what_importing_its_five_plists_gives_in_either_form()
    {
        var plists = Directory.GetFiles(Path.Combine(Example, "launchd"), "*.plist").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, plists.Count);
        foreach (var plist in plists)
        {
            var imported = _plist.Import(plist, File.ReadAllBytes(plist));
            var manifest = Assert.Single(imported.Manifests);
            var committed = File.ReadAllText(Path.Combine(Example, "manifests", manifest.UnitName + ".yaml"));
            Assert.Equal(committed, manifest.Yaml); // the example folder is kept in step with the importer

            var binary = _temp.Combine(Path.GetFileName(plist));
            Peers.ToBinaryWithPlistlib(plist, binary);
            Assert.Equal(manifest.Yaml, Assert.Single(_plist.Import(plist, File.ReadAllBytes(binary)).Manifests).Yaml);
        }
    }

    [Fact]
    public void Every_key_an_import_cannot_honour_is_named_with_why_and_left_out()
    {
        Peers.MakeCases(_temp.Path);
        var file = _temp.Combine("cloudflared.bin.plist");
        var imported = _plist.Import(file, File.ReadAllBytes(file));
        var notes = imported.Notes.ToDictionary(n => n.Key, n => n.Message);
        Assert.Contains("macOS scheduling hint", notes["ProcessType"], StringComparison.Ordinal);
        Assert.Contains("calendar starts are not supported", notes["StartCalendarInterval"], StringComparison.Ordinal);
        Assert.Equal(["ProcessType", "StartCalendarInterval"], notes.Keys.Order(StringComparer.Ordinal));
        var yaml = Assert.Single(imported.Manifests).Yaml;
        Assert.DoesNotContain("ProcessType", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("enabled:", yaml, StringComparison.Ordinal); // Disabled false is the default
        Assert.Contains("OtherJobEnabled:\n      com.llmclassroom.hub: true", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plist_taken_to_a_manifest_and_back_means_what_it_meant_to_plistlib()
    {
        Peers.MakeCases(_temp.Path);
        foreach (var name in new[] { "hub", "proto1", "proto3", "proto4", "cloudflared" })
        {
            var source = _temp.Combine(name + ".xml.plist");
            var manifest = Assert.Single(_plist.Import(source, File.ReadAllBytes(source)).Manifests);
            var unit = Exports.FromImport(manifest, _temp.Combine(manifest.UnitName + ".yaml"));
            var exported = _temp.Combine(name + ".exported.plist");
            File.WriteAllText(exported, _plist.Export(unit).Text);

            var before = Meaning(Peers.ReadWithPlistlib(source));
            var after = Meaning(Peers.ReadWithPlistlib(exported));
            Assert.True(JsonNode.DeepEquals(before, after), $"{name}:\nbefore: {before}\nafter:  {after}");
        }
    }

    [Fact]
    public void A_process_unit_exports_to_a_plist_with_its_restart_policy_as_keepalive()
    {
        var plan = new LaunchPlan("/bin/sh") { Arguments = ["-c", "echo hi"], WorkingDirectory = "/tmp", Environment = new Dictionary<string, string> { ["A"] = "b" } };
        var unit = Exports.Process("worker", plan, "/etc/pluginhost/worker.yaml") with
        {
            Restart = RestartSettings.Default,
            Stop = new StopSettings(UnixSignal.Term, TimeSpan.FromSeconds(7.5)),
        };
        var export = _plist.Export(unit);
        var file = _temp.Combine("worker.plist");
        File.WriteAllText(file, export.Text);
        var read = Peers.ReadWithPlistlib(file).AsObject();
        Assert.Equal("""{"SuccessfulExit":false}""", read["KeepAlive"]!.ToJsonString());
        Assert.Equal("""["/bin/sh","-c","echo hi"]""", read["ProgramArguments"]!.ToJsonString());
        Assert.Equal(8, read["ExitTimeOut"]!["int"]!.GetValue<int>()); // the grace, rounded up
        Assert.Equal(1, read["ThrottleInterval"]!["int"]!.GetValue<int>());
        Assert.Equal("/var/tmp/pluginhost-data/logs/worker.log", read["StandardOutPath"]!.GetValue<string>());
        Assert.Contains(export.Notes, n => n.Key == "restart.backoff");
        Assert.Contains(export.Notes, n => n.Key == "restart.limit");
        Assert.Contains(export.Notes, n => n.Key == "env" && n.Message.Contains("in clear", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_exported_systemd_unit_passes_systemd_analyze_verify()
    {
        // The tunnel's program is not on this machine: a stand-in at a path of the test's, so that verify judges the unit, not the machine.
        var tunnel = _temp.Write("bin/cloudflared", "#!/bin/sh\nexec sleep 60\n");
        File.SetUnixFileMode(tunnel, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var units = new List<ExportedUnit>();
        foreach (var plist in Directory.GetFiles(Path.Combine(Example, "launchd"), "*.plist"))
        {
            var content = File.ReadAllText(plist).Replace("/usr/local/bin/cloudflared", tunnel, StringComparison.Ordinal);
            var manifest = Assert.Single(_plist.Import(plist, System.Text.Encoding.UTF8.GetBytes(content)).Manifests);
            units.Add(Exports.FromImport(manifest, Path.Combine(Example, "manifests", manifest.UnitName + ".yaml")) with { After = manifest.UnitName.EndsWith("hub", StringComparison.Ordinal) ? [] : ["com.llmclassroom.hub"] });
        }

        // Words systemd would otherwise split, expand or take as a specifier.
        var awkward = new LaunchPlan("/bin/sh")
        {
            Arguments = ["-c", "echo \"$HOME\" 100% done; echo 'single' \\ back", "two words", ""],
            WorkingDirectory = "/tmp",
            Environment = new Dictionary<string, string> { ["GREETING"] = "hello \"world\" 50% $USER", ["PLAIN"] = "x", ["EMPTY"] = "" },
        };
        units.Add(Exports.Process("awkward", awkward, "/etc/pluginhost/awkward.yaml") with { After = ["com.llmclassroom.hub"] });
        units.Add(Exports.Launchd("crash-only", """
            ProgramArguments: [/bin/sleep, "60"]
            KeepAlive: { Crashed: true }
            ExitTimeOut: 3
            UserName: daemon
            """, _temp.Combine("crash-only.yaml")));
        units.Add(Exports.Process("limited", new LaunchPlan("/bin/true"), "/etc/pluginhost/limited.yaml") with
        {
            Restart = RestartSettings.Default with { Policy = RestartPolicy.Always, MaxRestarts = 3, Window = TimeSpan.FromMinutes(2) },
        });

        var files = new List<string>();
        foreach (var unit in units)
        {
            var file = _temp.Combine(_systemd.ExportFileName(unit));
            File.WriteAllText(file, _systemd.Export(unit).Text);
            files.Add(file);
        }

        var (code, output) = Peers.VerifyWithSystemd([.. files]);
        Assert.True(code == 0 && output.Trim().Length == 0, $"systemd-analyze verify exited {code}:\n{output}");

        var hub = File.ReadAllText(_temp.Combine("com.llmclassroom.hub.service"));
        Assert.Contains("Restart=always\n", hub, StringComparison.Ordinal);
        Assert.Contains("RestartSec=30\n", hub, StringComparison.Ordinal);
        Assert.Contains("StartLimitIntervalSec=0\n", hub, StringComparison.Ordinal); // launchd never gives up
        Assert.Contains("KillMode=control-group\n", hub, StringComparison.Ordinal);
        Assert.Contains("TimeoutStopSec=20\n", hub, StringComparison.Ordinal);
        Assert.Contains($"StandardOutput=append:{Path.Combine(Example, "logs", "hub.log")}\n", hub, StringComparison.Ordinal);
        Assert.Contains($"WorkingDirectory={Example}\n", hub, StringComparison.Ordinal);
        Assert.Contains("Environment=PYTHONUNBUFFERED=1\n", hub, StringComparison.Ordinal);
        var proto = File.ReadAllText(_temp.Combine("com.llmclassroom.proto1.service"));
        Assert.Contains("After=com.llmclassroom.hub.service\n", proto, StringComparison.Ordinal);
        var limited = File.ReadAllText(_temp.Combine("limited.service"));
        Assert.Contains("StartLimitIntervalSec=120\nStartLimitBurst=4\n", limited, StringComparison.Ordinal);
        var crashOnly = File.ReadAllText(_temp.Combine("crash-only.service"));
        Assert.Contains("Restart=on-abnormal\n", crashOnly, StringComparison.Ordinal);
        Assert.Contains("User=daemon\n", crashOnly, StringComparison.Ordinal);
        var cloudflared = File.ReadAllText(_temp.Combine("com.llmclassroom.cloudflared.service"));
        Assert.Contains($"ConditionPathExists={tunnel}\n", cloudflared, StringComparison.Ordinal); // PathState, checked at each start
        Assert.Contains("Restart=always\n", cloudflared, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exported_command_line_reaches_the_program_word_for_word()
    {
        // Split as systemd.service(5) says ExecStart= is split ("Command lines"): quotes, C escapes, %% and $$.
        var words = new[] { "-c", "printf '%s\\n' \"$@\"", "x", "two words", "quote\"inside", "back\\slash", "100%", "$HOME", "" };
        var unit = Exports.Process("words", new LaunchPlan("/bin/sh") { Arguments = words, WorkingDirectory = "/tmp" }, "/etc/pluginhost/words.yaml");
        var file = _temp.Combine("words.service");
        File.WriteAllText(file, _systemd.Export(unit).Text);
        var line = File.ReadAllLines(file).Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        Assert.Equal(["/bin/sh", .. words], SystemdWords(line));
    }

    [Theory]
    [InlineData(null, null, false, false, "no")]
    [InlineData(false, null, false, false, "on-failure")]
    [InlineData(true, null, false, false, "on-success")]
    [InlineData(null, true, false, false, "on-abnormal")]
    [InlineData(null, false, false, false, "always")]
    [InlineData(false, true, false, false, "on-failure")]
    [InlineData(true, true, false, false, "always")]
    [InlineData(null, null, true, false, "always")]
    public void Keepalive_conditions_become_the_restart_value_that_never_restarts_less(bool? successfulExit, bool? crashed, bool path, bool job, string expected)
    {
        var rule = new KeepAliveRule(null, successfulExit, crashed, path ? [new("/tmp/x", true)] : null, job ? [new("other", true)] : null);
        var (restart, note) = SystemdFormat.Restart(rule);
        Assert.Equal(expected, restart);
        if (path)
        {
            Assert.Contains("PathState", note, StringComparison.Ordinal);
        }
    }

    /// <summary>A plist's meaning as launchd reads it: its defaults filled in, the keys PluginHost does not honour left out.</summary>
    private static JsonObject Meaning(JsonNode plist)
    {
        var job = plist.AsObject();
        var meaning = new JsonObject();
        foreach (var key in LaunchdSpec.Keys)
        {
            if (job[key] is { } value)
            {
                meaning[key] = value.DeepClone();
            }
        }

        meaning["RunAtLoad"] ??= false;
        meaning["KeepAlive"] ??= false;
        meaning["ThrottleInterval"] ??= new JsonObject { ["int"] = LaunchdSpec.DefaultThrottleInterval };
        meaning["ExitTimeOut"] ??= new JsonObject { ["int"] = LaunchdSpec.DefaultExitTimeOut };
        meaning["AbandonProcessGroup"] ??= false;
        meaning["Disabled"] = job["Disabled"]?.DeepClone() ?? false;
        return meaning;
    }

    /// <summary>How systemd splits a command line (systemd.service(5), "Command lines"): quotes, C escapes, %% and $$.</summary>
    private static List<string> SystemdWords(string line)
    {
        var words = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            if (i >= line.Length)
            {
                break;
            }

            var word = new System.Text.StringBuilder();
            var quote = line[i] == '"' ? '"' : '\0';
            if (quote != '\0')
            {
                i++;
            }

            for (; i < line.Length && (quote != '\0' ? line[i] != quote : line[i] != ' '); i++)
            {
                if (line[i] == '\\')
                {
                    i++;
                    word.Append(line[i] switch { 'n' => '\n', 't' => '\t', var c => c });
                }
                else if ((line[i] == '%' || line[i] == '$') && i + 1 < line.Length && line[i + 1] == line[i])
                {
                    word.Append(line[i++]);
                }
                else
                {
                    word.Append(line[i]);
                }
            }

            i++; // the closing quote or the space
            words.Add(word.ToString());
        }

        return words;
    }
}
