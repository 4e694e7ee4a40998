using System.Text.RegularExpressions;
using CliWrap;
using Helper = CliWrap.Cli;
using CliWrap.Buffered;

namespace PluginHost.Scaffold;

/// <summary>
/// The checkout's template pack (<c>tools/PluginHost.Templates/content/plugin</c>) and the
/// <c>dotnet new</c> that runs it. The pack is installed into a template hive of the checkout's own
/// (<c>artifacts/template-hive</c>, through <c>DOTNET_CLI_HOME</c>) rather than the user's: another
/// checkout's pack or an older nupkg with the same identity can never be the one that runs.
/// </summary>
internal sealed partial class PluginTemplate(string checkout)
{
    public static readonly IReadOnlyList<string> Kinds = ["sidecar", "pty", "driver", "station-step"];

    private const string TemplateFolder = "tools/PluginHost.Templates/content/plugin";

    /// <summary>The PluginHost checkout the plugin builds and tests against.</summary>
    public string Checkout { get; } = checkout;

    /// <summary>The checkout holding this pluginhost (its build output is under host/PluginHost/bin), if it is one.</summary>
    public static PluginTemplate? Find(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            if (IsCheckout(dir.FullName))
            {
                return new PluginTemplate(dir.FullName);
            }
        }

        return null;
    }

    public static bool IsCheckout(string folder) =>
        File.Exists(Path.Combine(folder, "PluginHost.sln")) && File.Exists(Path.Combine(folder, TemplateFolder, ".template.config", "template.json"));

    /// <summary>A plugin's name is its C# namespace and, in kebab case, its plugin and kind name: <c>Acme.Dmm</c> → <c>acme-dmm</c>.</summary>
    public static bool IsValidName(string name) => ValidName().IsMatch(name);

    /// <summary>The name the host and manifests know the plugin by, as the template derives it.</summary>
    public static string KebabName(string name) => NonAlphanumeric().Replace(WordBreak().Replace(name, "$1.$2").ToLowerInvariant(), "-");

    /// <summary>Runs <c>dotnet new pluginhost-plugin</c> into <paramref name="output"/>; the error text is dotnet's own.</summary>
    public async Task<(bool Succeeded, string Error)> CreateAsync(string name, string kind, string output, CancellationToken cancellationToken)
    {
        var install = await DotnetAsync(["new", "install", Path.Combine(Checkout, TemplateFolder)], cancellationToken).ConfigureAwait(false);
        if (install.ExitCode is not (0 or AlreadyInstalled))
        {
            return (false, $"`dotnet new install {TemplateFolder}` exited {install.ExitCode}: {Text(install)}");
        }

        var created = await DotnetAsync(["new", "pluginhost-plugin", "--name", name, "--kind", kind, "--output", output, "--pluginhost-root", Checkout], cancellationToken).ConfigureAwait(false);
        return created.ExitCode == 0 ? (true, "") : (false, $"`dotnet new pluginhost-plugin` exited {created.ExitCode}: {Text(created)}");
    }

    /// <summary>dotnet new's exit code for a template package that is already installed (https://aka.ms/templating-exit-codes).</summary>
    private const int AlreadyInstalled = 106;

    private Task<BufferedCommandResult> DotnetAsync(string[] arguments, CancellationToken cancellationToken) =>
        Helper.Wrap(Dotnet()).WithArguments(arguments).WithValidation(CommandResultValidation.None)
            .WithEnvironmentVariables(new Dictionary<string, string?>
            {
                ["DOTNET_CLI_HOME"] = Path.Combine(Checkout, "artifacts", "template-hive"),
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            })
            .ExecuteBufferedAsync(cancellationToken);

    /// <summary>The dotnet running this pluginhost (<c>dotnet pluginhost.dll</c>, <c>dotnet run</c>), else the one on PATH.</summary>
    private static string Dotnet() =>
        Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : "dotnet";

    private static string Text(BufferedCommandResult result) => (result.StandardError + "\n" + result.StandardOutput).Trim();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$")]
    private static partial Regex ValidName();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex WordBreak();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();
}
