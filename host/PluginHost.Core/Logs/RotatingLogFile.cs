using System.Buffers;
using System.Text;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// A unit's log file, <c>NAME.log</c>, rotated to <c>NAME.log.1</c> … <c>NAME.log.K</c> when it would
/// exceed its size. Rotation happens between lines, so no line is ever split across files.
/// Callers serialize access (one writer per unit).
/// </summary>
internal sealed class RotatingLogFile : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly string _path;
    private readonly LogSettings _settings;
    private FileStream _file;
    private const int BufferBytes = 16 * 1024;

    // Rented for the lines of one chunk and returned by Flush: a quiet unit holds no buffer.
    private byte[]? _buffer;
    private int _buffered;
    private byte[] _stamp = [];
    private DateTimeOffset _stampTime;
    private OutputStream _stampStream;

    public RotatingLogFile(string path, LogSettings settings)
    {
        _path = path;
        _settings = settings;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = Open();
    }

    public string Path => _path;

    public void Write(OutputLine line)
    {
        // Lines read in one chunk share a timestamp: format it once per chunk, not once per line.
        if (line.Timestamp != _stampTime || line.Stream != _stampStream)
        {
            _stampTime = line.Timestamp;
            _stampStream = line.Stream;
            _stamp = Utf8.GetBytes($"{line.Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Stream(line.Stream)} ");
        }

        var bytes = _stamp.Length + Utf8.GetByteCount(line.Text) + 1;
        if (_file.Length + _buffered + bytes > _settings.MaxFileBytes && _file.Length + _buffered > 0)
        {
            Rotate();
        }

        if (_buffer is not null && bytes > _buffer.Length - _buffered)
        {
            Flush();
        }

        if (bytes > BufferBytes)
        {
            _file.Write(_stamp);
            _file.Write(Utf8.GetBytes(line.Text + "\n"));
            return;
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferBytes);
        _stamp.CopyTo(_buffer, _buffered);
        _buffered += _stamp.Length;
        _buffered += Utf8.GetBytes(line.Text, 0, line.Text.Length, _buffer, _buffered);
        _buffer[_buffered++] = (byte)'\n';
    }

    public void Flush()
    {
        if (_buffer is not null)
        {
            _file.Write(_buffer, 0, _buffered);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _buffered = 0;
        }

        _file.Flush();
    }

    private void Rotate()
    {
        Flush();
        _file.Dispose();
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
            File.Delete(_path);
        }

        _file = Open();
    }

    private FileStream Open() => new(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    private static string Stream(OutputStream stream) => stream switch
    {
        OutputStream.Stdout => "out",
        OutputStream.Stderr => "err",
        _ => "pty",
    };

    public void Dispose()
    {
        Flush();
        _file.Dispose();
    }
}
