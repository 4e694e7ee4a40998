using System.CommandLine;
using PluginHost.Scaffold;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost new plugin NAME --kind KIND</c>: a plugin project from the checkout's template pack
/// (docs/plugin-authoring.md) without knowing the <c>dotnet new</c> incantation; prints the three
/// commands that build it, run its contract tests and load it into a host.
/// </summary>
internal static class NewCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The plugin's C# namespace, e.g. Acme.Dmm (its plugin and kind name: acme-dmm)." };
        var kind = new Option<string>("--kind", "-k")
        {
            Description = "sidecar (a server beside an app), pty (an interactive program), driver (an equipment driver) or station-step (C# steps for station batches).",
            DefaultValueFactory = _ => "sidecar",
        };
        kind.AcceptOnlyFromAmong([.. PluginTemplate.Kinds]);
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Where to write it (default: ./NAME); must not exist or be empty." };
        var root = new Option<DirectoryInfo?>("--root") { Description = "The PluginHost checkout to build against (default: the one this pluginhost was built in)." };
        var plugin = new Command("plugin", "A plugin project, its plugin.yaml, an example host and manifest, and a test project inheriting the contract kit.")
        {
            name, kind, output, root,
        };
        plugin.SetAction(async (parse, cancellationToken) =>
            await CreateAsync(parse.GetValue(name)!, parse.GetValue(kind)!, parse.GetValue(output), parse.GetValue(root), cancellationToken).ConfigureAwait(false));
        return new Command("new", "Make something new from PluginHost's templates.") { plugin };
    }

    private static async Task<int> CreateAsync(string name, string kind, DirectoryInfo? output, DirectoryInfo? root, CancellationToken cancellationToken)
    {
        if (!PluginTemplate.IsValidName(name))
        {
            await Console.Error.WriteLineAsync($"pluginhost: \"{name}\" is not a plugin name: it becomes the C# namespace, so it is letters and digits in dotted parts, each starting with a capital (e.g. Acme.Dmm, Contoso.Sidecars.Cache).").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        PluginTemplate? template;
        if (root is not null)
        {
            template = PluginTemplate.IsCheckout(root.FullName) ? new PluginTemplate(root.FullName) : null;
            if (template is null)
            {
                await Console.Error.WriteLineAsync($"pluginhost: {root.FullName} is not a PluginHost checkout (no PluginHost.sln and tools/PluginHost.Templates there). Give --root the folder you cloned PluginHost into.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }
        else if ((template = PluginTemplate.Find(AppContext.BaseDirectory)) is null)
        {
            await Console.Error.WriteLineAsync($"pluginhost: this pluginhost ({AppContext.BaseDirectory}) was not built in a PluginHost checkout, whose contracts and templates a plugin is made from. Run the checkout's own (dotnet run --project host/PluginHost -- new plugin …) or give --root CHECKOUT.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var target = output ?? new DirectoryInfo(name);
        if (target.Exists && target.EnumerateFileSystemInfos().Any())
        {
            await Console.Error.WriteLineAsync($"pluginhost: {target.FullName} already exists and is not empty; nothing was written. Choose another folder with --output, or remove it.").ConfigureAwait(false);
            return ExitCodes.Problems;
        }

        var (succeeded, error) = await template.CreateAsync(name, kind, target.FullName, cancellationToken).ConfigureAwait(false);
        if (!succeeded)
        {
            await Console.Error.WriteLineAsync($"pluginhost: the plugin was not made: {error}").ConfigureAwait(false);
            return ExitCodes.Problems;
        }

        // The pluginhost that made it, when it belongs to that checkout; else the checkout's debug build.
        var built = root is null ? AppContext.BaseDirectory : Path.Combine(template.Checkout, "host", "PluginHost", "bin", "Debug", "net10.0");
        var pluginhost = $"dotnet {Path.Combine(built, "pluginhost.dll")}";
        var unitKind = kind is "sidecar" or "pty";
        var tryIt = unitKind ? $"status {PluginTemplate.KebabName(name)}" : $"ops {PluginTemplate.KebabName(name)}-station startSequence";
        var reload = unitKind ? "rebuild while it runs: the host hot-reloads the plugin and the unit keeps its PID"
            : "rebuild while it runs: the station's next run takes up the new build";
        Console.WriteLine($"""
            Made the {kind} plugin {name} in {target.FullName} (its README.md says what is where). Next:

              cd {Relative(target.FullName)}
              dotnet build          # the plugin, into artifacts/: what the host loads
              dotnet test           # the contract kit's promises, on that build
              {pluginhost} run --manifests manifests

            The last is a host on 127.0.0.1:7271 with the example manifests. From that folder, try
            `{pluginhost} {tryIt}`; {reload}.
            """);
        return ExitCodes.Ok;
    }

    private static string Relative(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
