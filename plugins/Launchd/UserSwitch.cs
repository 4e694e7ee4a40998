using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Launchd;

/// <summary>
/// launchd's UserName / GroupName: the program runs as that user, which only a host running as root
/// can do. On Linux through util-linux's <c>setpriv</c>, which sets the ids and supplementary groups
/// and then execs the program (so the unit's pid is the program's, and signals reach it).
/// </summary>
internal static class UserSwitch
{
    private static readonly string? SetPriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);

    public static (string Program, IReadOnlyList<string> Arguments) Wrap(string? user, string? group, string command, IReadOnlyList<string> arguments,
        Dictionary<string, string> environment)
    {
        if (user is null && group is null)
        {
            return (command, arguments);
        }

        var current = Environment.UserName;
        if (!Environment.IsPrivilegedProcess)
        {
            if (group is null && user == current)
            {
                return (command, arguments); // already that user: nothing to switch
            }

            throw new UnitErrorException(new UnitError("USER_SWITCH_NEEDS_ROOT",
                $"The job asks to run as {user ?? current}{(group is null ? "" : ":" + group)}, but the host runs as {current}, which cannot switch users.",
                "Run the host as root (e.g. `pluginhost install --systemd` as a system service), or remove UserName/GroupName to run the job as the host's user."));
        }

        if (SetPriv is null || !OperatingSystem.IsLinux())
        {
            throw new UnitErrorException(new UnitError("USER_SWITCH_UNAVAILABLE", "UserName needs util-linux's setpriv, which this machine does not have.",
                "Install util-linux (Debian: apt-get install util-linux), or remove UserName."));
        }

        var account = user is null ? null : PasswdEntry.Find(user)
            ?? throw new UnitErrorException(new UnitError("USER_NOT_FOUND", $"There is no user {user} on this machine.",
                "Create the user, or fix spec.UserName."));
        var wrapped = new List<string>();
        if (account is not null)
        {
            wrapped.Add($"--reuid={account.Uid}");
            wrapped.Add($"--regid={group ?? account.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            wrapped.Add("--init-groups");
            environment.TryAdd("HOME", account.Home);
            environment["USER"] = account.Name;
            environment["LOGNAME"] = account.Name;
        }
        else
        {
            wrapped.Add($"--regid={group}");
            wrapped.Add("--clear-groups");
        }

        wrapped.Add("--");
        wrapped.Add(command);
        wrapped.AddRange(arguments);
        return (SetPriv, wrapped);
    }

    /// <summary>One line of /etc/passwd.</summary>
    private sealed record PasswdEntry(string Name, int Uid, int Gid, string Home)
    {
        public static PasswdEntry? Find(string name)
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 7 && fields[0] == name && int.TryParse(fields[2], out var uid) && int.TryParse(fields[3], out var gid))
                {
                    return new PasswdEntry(name, uid, gid, fields[5]);
                }
            }

            return null;
        }
    }
}
