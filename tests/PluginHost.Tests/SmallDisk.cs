using System.Diagnostics;

namespace PluginHost.Tests;

/// <summary>
/// A tmpfs of a few megabytes mounted on a test's folder, to fill up on purpose. Needs root (CI
/// runs as root); without it the test fails at once and says so rather than testing nothing.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk Mount(string path, int megabytes)
    {
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path);
        return code == 0
            ? new SmallDisk(path)
            : throw new InvalidOperationException($"this test needs a small file system to fill: `mount -t tmpfs` failed ({output.Trim()}). Run the tests as root, as CI does.");
    }

    /// <summary>Writes a file until the file system refuses another byte.</summary>
    public void Fill(string name)
    {
        using var filler = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var size in new[] { 1 << 20, 1 << 12, 1 })
        {
            var block = new byte[size];
            try
            {
                while (true)
                {
                    filler.Write(block);
                }
            }
            catch (IOException)
            {
                // Full at this block size: go on with a smaller one.
            }
        }
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Output) Run(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
