using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using PluginHost.Contracts.Units;
using PluginHost.Core.Storage;

namespace PluginHost.Core.Logs;

/// <summary>
/// A unit's log file, <c>NAME.log</c>, rotated to <c>NAME.log.1</c> … <c>NAME.log.K</c> when it would
/// exceed its size. Rotation happens between lines, so no line is ever split across files.
/// Callers serialize access (one writer per unit).
/// </summary>
/// <remarks>
/// A write that fails (a full disk, a failing device) never reaches the unit: the lines of that
/// block are dropped and counted, a block cut short is cut back out of the file so that it only ever
/// holds whole lines, and the next write tries again. The first block that gets through is preceded
/// by a line saying how many lines are missing there and since when.
/// </remarks>
internal sealed class RotatingLogFile : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    // Numbers the files renamed aside for deletion, so that two rotations never pick the same name.
    private static long _doomed;

    // Files renamed aside by this host are deleted by this host: only those of an earlier host can
    // be left behind, so each folder is listed once per host, not once per log opened in it (1,000
    // units listed the logs folder 1,000 times at start).
    private static readonly Dictionary<string, string[]> LeftBehind = new(StringComparer.Ordinal);

    private readonly string _path;
    private readonly LogSettings _settings;
    private readonly StorageComponent _health;
    private readonly bool _stamped;
    private FileStream? _file;
    // Closed until the first line and while the unit is quiet (CloseIfQuiet): its length then, for rotation, until a line opens it again.
    private long _closedLength;
    private bool _written;
    private bool _disposed;
    // A whole chunk of the pump's (128 KiB plus a stamp per line) in one write(2).
    private const int BufferBytes = 256 * 1024;

    // Rented for the lines of one chunk and returned by Flush: a quiet unit holds no buffer.
    private byte[]? _buffer;
    private int _buffered;
    private int _bufferedLines;
    private byte[] _stamp = [];
    private DateTimeOffset _stampTime;
    private OutputStream _stampStream;

    // Lines dropped since the last one that reached the file, and when the first of them was captured.
    private long _missing;
    private DateTimeOffset _missingSince;
    private long _lost;

    /// <param name="stamped">False for a copy of a program's output as it wrote it (launchd's StandardOutPath): no timestamp, no stream.</param>
    public RotatingLogFile(string path, LogSettings settings, StorageComponent? health = null, bool stamped = true)
    {
        _path = path;
        _stamped = stamped;
        _settings = settings;
        _health = health ?? StorageComponent.Unwatched("log", path);
        PrivateFiles.CreateFolder(System.IO.Path.GetDirectoryName(path)!);
        using (var created = Open())
        {
            // Made (or found) now, so that a folder that cannot take it fails the unit's setup; held
            // open only from the first line on, and closed again while the unit is quiet.
            _closedLength = created.Position;
        }

        PrivateFiles.Restrict(path); // a log of an earlier host may have been made 0644
        DeleteLeftBehind(path);
    }

    public string Path => _path;

    /// <summary>Lines that could not be written to the file since it was opened (they are still in the tail and went to followers).</summary>
    public long LinesLost => Interlocked.Read(ref _lost);

    public void Write(OutputLine line)
    {
        // Lines made in the host (alerts, a terminal's): encoded once, here.
        var bytes = ArrayPool<byte>.Shared.Rent(Utf8.GetMaxByteCount(line.Text.Length));
        try
        {
            Write(line.Stream, line.Timestamp, bytes.AsSpan(0, Utf8.GetBytes(line.Text, bytes)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <param name="utf8">The line in valid UTF-8, without its terminator (the pump's bytes as read).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per line: see OutputPump.CutLines
    public void Write(OutputStream stream, DateTimeOffset timestamp, ReadOnlySpan<byte> utf8)
    {
        // Lines read in one chunk share a timestamp: format it once per chunk, not once per line.
        if (_stamped && (timestamp != _stampTime || stream != _stampStream))
        {
            _stampStream = stream;
            _stamp = Utf8.GetBytes($"{timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Stream(stream)} ");
        }

        _stampTime = timestamp;
        var bytes = _stamp.Length + utf8.Length + 1;
        var length = _file?.Position ?? _closedLength;
        if (length + _buffered + bytes > _settings.MaxFileBytes && length + _buffered > 0)
        {
            Rotate();
        }

        if (_buffer is not null && bytes > _buffer.Length - _buffered)
        {
            Flush();
        }

        if (bytes > BufferBytes)
        {
            Flush();
            var single = new byte[bytes];
            _stamp.CopyTo(single, 0);
            utf8.CopyTo(single.AsSpan(_stamp.Length));
            single[^1] = (byte)'\n';
            WriteBlock(single, lines: 1, timestamp);
            return;
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferBytes);
        _stamp.CopyTo(_buffer, _buffered);
        _buffered += _stamp.Length;
        utf8.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += utf8.Length;
        _buffer[_buffered++] = (byte)'\n';
        _bufferedLines++;
    }

    public void Flush()
    {
        if (_buffer is null)
        {
            return;
        }

        WriteBlock(_buffer.AsSpan(0, _buffered), _bufferedLines, _stampTime);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _buffered = 0;
        _bufferedLines = 0;
    }

    /// <summary>Writes whole lines, or drops them all and counts them.</summary>
    private void WriteBlock(ReadOnlySpan<byte> block, int lines, DateTimeOffset capturedAt)
    {
        if (_missing > 0 && TryWrite(Utf8.GetBytes(MissingLine(capturedAt))))
        {
            var missing = _missing;
            _missing = 0;
            _health.Succeeded($"{missing} line(s) of output not written to {_path}");
        }

        if (_missing == 0 && TryWrite(block))
        {
            if (_health.IsFailing)
            {
                _health.Succeeded("nothing");
            }

            return;
        }

        if (_missing == 0)
        {
            _missingSince = capturedAt;
        }

        _missing += lines;
        Interlocked.Add(ref _lost, lines);
    }

    private string MissingLine(DateTimeOffset now) =>
        $"{now:yyyy-MM-ddTHH:mm:ss.fffZ} host [pluginhost] {_missing} line(s) missing here: captured from {_missingSince:yyyy-MM-ddTHH:mm:ss.fffZ} but not written ({_health.Alert?.Error.Code ?? "write failed"}); `pluginhost logs` showed them while they were in the tail\n";

    private bool TryWrite(ReadOnlySpan<byte> bytes)
    {
        var before = -1L;
        try
        {
            _file ??= Open();
            before = _file.Position;
            _file.Write(bytes);
            _written = true;
            return true;
        }
        catch (IOException ex)
        {
            // A write cut short leaves part of a line behind: cut the file back to where the block began.
            try
            {
                if (before >= 0)
                {
                    _file!.SetLength(before);
                }
            }
            catch (IOException)
            {
                // Truncating frees space and so does not fail on a full disk; if it does, the device is failing.
            }

            _health.Failed(ex);
            return false;
        }
    }

    private void Rotate()
    {
        Flush();
        try
        {
            _file?.Dispose();
            _file = null;
            _closedLength = 0;

            // A rename onto an existing file frees that file's blocks inside the call (≈ 5–10 ms for
            // 10 MB on ext4, measured): the oldest file is renamed aside instead and deleted off the
            // writer's path, so every rename below lands on a free name.
            DeleteBehind(_settings.KeepFiles > 0 ? $"{_path}.{_settings.KeepFiles}" : null);
            for (var i = _settings.KeepFiles - 1; i >= 1; i--)
            {
                var from = $"{_path}.{i}";
                if (File.Exists(from))
                {
                    File.Move(from, $"{_path}.{i + 1}", overwrite: true);
                }
            }

            if (_settings.KeepFiles > 0)
            {
                File.Move(_path, $"{_path}.1", overwrite: true);
            }
            else
            {
                DeleteBehind(_path);
            }

            _file = Open();
        }
        catch (IOException ex)
        {
            // Renames need no space, a new file does (an inode): the next write opens it again.
            _health.Failed(ex);
        }
    }

    private static void DeleteBehind(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return;
        }

        var doomed = $"{path}.{Environment.ProcessId}.{Interlocked.Increment(ref _doomed)}.deleted";
        File.Move(path, doomed);
        _ = Task.Run(() =>
        {
            try
            {
                File.Delete(doomed);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left behind; the next host that opens this log deletes it (DeleteLeftBehind).
            }
        });
    }

    /// <summary>Old files a host renamed aside and did not get to delete (it was killed in between).</summary>
    private static void DeleteLeftBehind(string path)
    {
        try
        {
            var prefix = System.IO.Path.GetFileName(path) + ".";
            foreach (var doomed in LeftBehindIn(System.IO.Path.GetDirectoryName(path)!).Where(f => System.IO.Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal)))
            {
                File.Delete(doomed);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only space is at stake, and the next start tries again.
        }
    }

    private static string[] LeftBehindIn(string folder)
    {
        lock (LeftBehind)
        {
            if (!LeftBehind.TryGetValue(folder, out var files))
            {
                files = Directory.GetFiles(folder, "*.deleted");
                LeftBehind[folder] = files;
            }

            return files;
        }
    }

    private FileStream Open() => new(_path, PrivateFiles.Append());

    /// <summary>
    /// Closes the file if nothing was written to it since the last call; the next line opens it
    /// again. Every unit's log was open for the unit's life, running or not: one of the descriptors
    /// a unit costs the host (see DescriptorReserve), and with thousands of quiet units the one most often idle.
    /// </summary>
    public void CloseIfQuiet()
    {
        if (_written || _disposed || _file is null || _buffer is not null)
        {
            _written = false;
            return;
        }

        _closedLength = _file.Position;
        _file.Dispose();
        _file = null;
    }

    private static string Stream(OutputStream stream) => stream switch
    {
        OutputStream.Stdout => "out",
        OutputStream.Stderr => "err",
        _ => "pty",
    };

    public void Dispose()
    {
        Flush();
        _disposed = true;
        _file?.Dispose();
        _health.Retire();
    }
}
