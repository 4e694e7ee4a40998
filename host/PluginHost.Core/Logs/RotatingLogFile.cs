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
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _buffered;

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
        var text = $"{line.Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Stream(line.Stream)} {line.Text}\n";
        var bytes = Utf8.GetByteCount(text);
        if (_file.Length + _buffered + bytes > _settings.MaxFileBytes && _file.Length + _buffered > 0)
        {
            Rotate();
        }

        if (bytes > _buffer.Length - _buffered)
        {
            Flush();
        }

        if (bytes > _buffer.Length)
        {
            _file.Write(Utf8.GetBytes(text));
            return;
        }

        _buffered += Utf8.GetBytes(text, 0, text.Length, _buffer, _buffered);
    }

    public void Flush()
    {
        if (_buffered > 0)
        {
            _file.Write(_buffer, 0, _buffered);
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
