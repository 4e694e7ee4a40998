using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PluginHost.Core.Processes;

namespace PluginHost.Core.IO;

/// <summary>
/// Reads a file the host was told to read (a manifest, host.yaml, a token file, plugin.yaml) only if
/// it is a regular file, and at most a given number of bytes of it. It is opened without blocking
/// (a FIFO would otherwise hang the open until a writer comes, forever), its type is asked of the
/// opened descriptor (no race with a swap after the check), and the limit is enforced on the bytes
/// actually read (a symlink to /dev/zero, or a /proc file reporting size 0, is never read without bound).
/// </summary>
internal static unsafe class RegularFile
{
    private const int S_IFMT = 0xF000;
    private const int S_IFREG = 0x8000;

    /// <returns>The bytes, or null with <paramref name="problem"/> saying what the path is instead ("a FIFO (named pipe)", "a file of more than N bytes"…).</returns>
    public static byte[]? TryRead(string path, int maxBytes, out string problem)
    {
        ArgumentNullException.ThrowIfNull(path);
        problem = "";
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC | LibC.O_NOCTTY);
        if (fd < 0)
        {
            problem = $"a file that cannot be opened ({Marshal.GetLastPInvokeErrorMessage()})";
            return null;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var stat = stackalloc byte[LibC.StatxSize];
        if (LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_TYPE | LibC.STATX_SIZE, stat) != 0)
        {
            problem = $"a file whose type cannot be read ({Marshal.GetLastPInvokeErrorMessage()})";
            return null;
        }

        var mode = *(ushort*)(stat + LibC.StatxModeOffset);
        if ((mode & S_IFMT) != S_IFREG)
        {
            problem = $"{Describe(mode & S_IFMT)}, not a regular file";
            return null;
        }

        // One byte past the limit tells "exactly at the limit" from "more".
        var buffer = new byte[Math.Min((long)maxBytes + 1, Math.Max(4096, (long)*(ulong*)(stat + LibC.StatxSizeOffset) + 1))];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total > maxBytes)
                {
                    problem = $"a file of more than {maxBytes} bytes";
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)maxBytes + 1, buffer.Length * 2L));
            }

            int read;
            try
            {
                read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            }
            catch (IOException ex)
            {
                problem = $"a file that cannot be read ({ex.Message})";
                return null;
            }

            if (read == 0)
            {
                return buffer[..total];
            }

            total += read;
        }
    }

    /// <summary>Whether <paramref name="path"/> (a symlink followed) is a regular file: what may be opened without fear of blocking.</summary>
    public static bool IsRegular(string path)
    {
        var stat = stackalloc byte[LibC.StatxSize];
        return LibC.statx(-100 /* AT_FDCWD */, path, 0, LibC.STATX_TYPE, stat) == 0 && (*(ushort*)(stat + LibC.StatxModeOffset) & S_IFMT) == S_IFREG;
    }

    private static string Describe(int type) => type switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => "a special file",
    };
}
