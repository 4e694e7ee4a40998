using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Contracts.Formats;
using PluginHost.Core.Formats;
using PluginHost.Core.Hosting;
using PluginHost.Core.Manifests;
using PluginHost.Core.Plugins;
using PluginHost.Core.Storage;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost import FORMAT FILE…</c> and <c>pluginhost export FORMAT UNIT…</c>: units moved
/// between PluginHost manifests and other supervisors' files, through the formats plugins offer
/// (the host knows none itself). Nothing is written unless every file converts and every new
/// manifest validates; every key a format could not carry over is listed with its file.
/// </summary>
internal static class UnitFormatCommands
{
    public static Command Import()
    {
        var format = new Argument<string>("format") { Description = "The format of the files, e.g. plist (`pluginhost plugins` lists the formats)." };
        var files = new Argument<FileInfo[]>("files") { Description = "The files to import.", Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force") { Description = "Replace manifests of the same name in the manifests folder." };
        var command = new Command("import", "Write unit manifests from other supervisors' files (e.g. launchd plists), listing every key not carried over.")
        {
            format, files, force, CommandLine.Manifests,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(CommandLine.Manifests)!.FullName;
            return await WithPluginsAsync(dir, parse.GetValue(format)!, importing: true, async (setup, unitFormat) =>
                await ImportAsync(setup, unitFormat, parse.GetValue(files)!, dir, parse.GetValue(force)).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Export()
    {
        var format = new Argument<string>("format") { Description = "The format to write, e.g. plist or systemd." };
        var units = new Argument<string[]>("units") { Description = "The units to export (default: every unit).", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<DirectoryInfo?>("--out", "-o") { Description = "Write each unit to a file in this folder instead of printing it." };
        var command = new Command("export", "Write units as another supervisor's files (a launchd plist, a systemd unit), listing what does not carry over.")
        {
            format, units, output, CommandLine.Manifests,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(CommandLine.Manifests)!.FullName;
            return await WithPluginsAsync(dir, parse.GetValue(format)!, importing: false, async (setup, unitFormat) =>
                await ExportAsync(setup, unitFormat, parse.GetValue(units)!, parse.GetValue(output), cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> WithPluginsAsync(string manifests, string formatName, bool importing, Func<HostSetup, IUnitFormat, Task<int>> run, CancellationToken cancellationToken)
    {
        var (setup, problems) = await HostSetup.LoadAsync(new HostOverrides(manifests), TimeProvider.System, NullLoggerFactory.Instance, temporary: true, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            ProblemPrinter.Print(Console.Error, problems);
            return ExitCodes.Problems;
        }

        await using (setup.ConfigureAwait(false))
        {
            var formats = setup.Plugins.Formats();
            var found = formats.FirstOrDefault(f => f.Format.Name == formatName).Format;
            if (found is null || (importing && !found.CanImport))
            {
                var offered = formats.Where(f => !importing || f.Format.CanImport).Select(f => $"{f.Format.Name} ({f.Format.Description}; plugin {f.Plugin})").ToList();
                await Console.Error.WriteLineAsync($"pluginhost: no loaded plugin {(importing ? "imports" : "exports")} the format \"{formatName}\". " +
                    (offered.Count == 0 ? "No plugin offers any: check the plugins folder in host.yaml (`pluginhost plugins`)." : "Formats: " + string.Join("; ", offered) + ".")).ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            return await run(setup, found).ConfigureAwait(false);
        }
    }

    private static async Task<int> ImportAsync(HostSetup setup, IUnitFormat format, FileInfo[] files, string manifests, bool force)
    {
        var imported = new List<(string Source, ImportedManifest Manifest)>();
        var failed = false;
        foreach (var file in files)
        {
            try
            {
                var content = Core.IO.RegularFile.TryRead(file.FullName, 4 * 1024 * 1024, out var problem)
                    ?? throw new IOException($"is {problem}, not a property list or unit file it can read");
                var result = format.Import(file.FullName, content);
                foreach (var note in result.Notes)
                {
                    await Console.Out.WriteLineAsync($"{file.Name}: {note.Key}: {note.Message}").ConfigureAwait(false);
                }

                imported.AddRange(result.Manifests.Select(m => (file.Name, m)));
            }
            catch (Exception ex) when (ex is UnitFormatException or IOException or UnauthorizedAccessException)
            {
                failed = true;
                var remedy = ex is UnitFormatException f ? f.Remedy : "Check that the file exists and is a readable regular file.";
                await Console.Error.WriteLineAsync($"{file.FullName}: {ex.Message} {remedy}").ConfigureAwait(false);
            }
        }

        foreach (var group in imported.GroupBy(i => i.Manifest.UnitName, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failed = true;
            await Console.Error.WriteLineAsync($"{string.Join(", ", group.Select(g => g.Source))}: all name the unit {group.Key}; give the jobs different Labels.").ConfigureAwait(false);
        }

        foreach (var (source, manifest) in imported.Where(i => !force && File.Exists(Target(manifests, i.Manifest))))
        {
            failed = true;
            await Console.Error.WriteLineAsync($"{source}: {Target(manifests, manifest)} exists already; pass --force to replace it.").ConfigureAwait(false);
        }

        if (failed || !await ValidatesAsync(setup, imported).ConfigureAwait(false))
        {
            await Console.Error.WriteLineAsync("Nothing was written.").ConfigureAwait(false);
            return ExitCodes.Problems;
        }

        foreach (var (source, manifest) in imported)
        {
            var target = Target(manifests, manifest);
            var temporary = target + ".importing";
            await File.WriteAllTextAsync(temporary, manifest.Yaml).ConfigureAwait(false);
            File.Move(temporary, target, overwrite: true);
            await Console.Out.WriteLineAsync($"{source} → {target}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>The new manifests are read by the host's own reader first (in a folder of their own), so that a bad one is never written.</summary>
    private static async Task<bool> ValidatesAsync(HostSetup setup, List<(string Source, ImportedManifest Manifest)> imported)
    {
        var staging = Directory.CreateTempSubdirectory("pluginhost-import-");
        try
        {
            foreach (var (_, manifest) in imported)
            {
                await File.WriteAllTextAsync(Path.Combine(staging.FullName, manifest.UnitName + ".yaml"), manifest.Yaml).ConfigureAwait(false);
            }

            var result = UnitSetLoader.Load(staging.FullName, setup.Plugins);
            if (!result.Ok)
            {
                await Console.Error.WriteLineAsync("The imported manifests would not validate (a format's bug: please report it):").ConfigureAwait(false);
                ProblemPrinter.Print(Console.Error, result.Problems);
            }

            return result.Ok;
        }
        finally
        {
            staging.Delete(recursive: true);
        }
    }

    private static string Target(string manifests, ImportedManifest manifest) => Path.Combine(manifests, manifest.UnitName + ".yaml");

    private static async Task<int> ExportAsync(HostSetup setup, IUnitFormat format, string[] names, DirectoryInfo? output, CancellationToken cancellationToken)
    {
        var units = setup.Units;
        var unknown = names.Where(n => !units.Units.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            await Console.Error.WriteLineAsync($"pluginhost: no unit named {string.Join(", ", unknown)} in {setup.ManifestsDirectory} (units: {string.Join(", ", units.StartOrder)}).").ConfigureAwait(false);
            return ExitCodes.Problems;
        }

        var exports = new List<(string File, UnitExport Export)>();
        foreach (var name in names.Length > 0 ? names : [.. units.StartOrder])
        {
            var manifest = units.Units[name];
            var driver = setup.Plugins.FindDriver(manifest.Kind)!;
            var unit = await ExportPlanner.PlanAsync(manifest, driver, setup.Host.DataDirectory, cancellationToken).ConfigureAwait(false);
            try
            {
                exports.Add((format.ExportFileName(unit), format.Export(unit)));
            }
            catch (UnitFormatException ex)
            {
                await Console.Error.WriteLineAsync($"{manifest.File}: {ex.Message} {ex.Remedy}").ConfigureAwait(false);
                await Console.Error.WriteLineAsync("Nothing was written.").ConfigureAwait(false);
                return ExitCodes.Problems;
            }
        }

        foreach (var (file, export) in exports)
        {
            foreach (var note in export.Notes)
            {
                await Console.Error.WriteLineAsync($"{file}: {note.Key}: {note.Message}").ConfigureAwait(false);
            }

            if (output is null)
            {
                await Console.Out.WriteAsync(export.Text).ConfigureAwait(false);
                continue;
            }

            PrivateFiles.CreateFolder(output.FullName);
            var target = Path.Combine(output.FullName, file);
            // 0600: an export may hold the unit's secret environment values.
            // Created 0600: an export may hold the unit's secret environment values.
            await using (var writer = new StreamWriter(target + ".exporting", PrivateFiles.Create()))
            {
                await writer.WriteAsync(export.Text).ConfigureAwait(false);
            }

            File.Move(target + ".exporting", target, overwrite: true);

            await Console.Out.WriteLineAsync(target).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
