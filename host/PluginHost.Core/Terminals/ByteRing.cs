namespace PluginHost.Core.Terminals;

/// <summary>The last <c>capacity</c> bytes written: a terminal's scrollback.</summary>
internal sealed class ByteRing(int capacity)
{
    private readonly byte[] _buffer = new byte[capacity];
    private int _start;
    private int _count;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= _buffer.Length)
        {
            bytes[^_buffer.Length..].CopyTo(_buffer);
            _start = 0;
            _count = _buffer.Length;
            return;
        }

        var end = (_start + _count) % _buffer.Length;
        var first = Math.Min(bytes.Length, _buffer.Length - end);
        bytes[..first].CopyTo(_buffer.AsSpan(end));
        bytes[first..].CopyTo(_buffer);
        var overflow = Math.Max(0, _count + bytes.Length - _buffer.Length);
        _start = (_start + overflow) % _buffer.Length;
        _count = Math.Min(_buffer.Length, _count + bytes.Length);
    }

    public byte[] ToArray()
    {
        var result = new byte[_count];
        var first = Math.Min(_count, _buffer.Length - _start);
        _buffer.AsSpan(_start, first).CopyTo(result);
        _buffer.AsSpan(0, _count - first).CopyTo(result.AsSpan(first));
        return result;
    }
}
