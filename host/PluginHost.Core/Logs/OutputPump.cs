using System.Buffers;
using System.IO.Pipes;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using PluginHost.Contracts.Units;

namespace PluginHost.Core.Logs;

/// <summary>
/// Reads one output pipe of a process until end of file, as fast as the process writes, and cuts
/// it into lines (LF or CRLF) without ever splitting or merging one: a partial line waits for the
/// rest of it; a line longer than <see cref="MaxLineBytes"/> is cut there (bounded memory).
/// </summary>
internal static class OutputPump
{
    public const int MaxLineBytes = 1024 * 1024;
    private const int IdleBuffer = 4 * 1024;

    // The pipe holds 1 MiB (ProcessSpawner): while a unit bursts, each read takes up to 128 KiB of it,
    // so a 10 MB burst is ≈ 80 reads, file writes and flushes, not thousands.
    private const int BurstBuffer = 128 * 1024;

    public static async Task PumpAsync(SafePipeHandle pipe, OutputStream stream, UnitLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        await using var reader = new AnonymousPipeClientStream(PipeDirection.In, pipe);
        var pending = new MemoryStream();
        var size = IdleBuffer;
        while (true)
        {
            // A pending read holds its buffer: small while the unit is quiet, large while it bursts.
            int read;
            var buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                read = await reader.ReadAsync(buffer).ConfigureAwait(false);
                size = read >= IdleBuffer ? BurstBuffer : IdleBuffer;
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                break;
            }

            // One timestamp per read: the lines of one chunk arrived together.
            var now = time.GetUtcNow();
            CutLines(buffer.AsSpan(0, read), pending, stream, now, log);
            ArrayPool<byte>.Shared.Return(buffer);
            if (pending.Length >= MaxLineBytes)
            {
                Emit([], pending, stream, now, log);
            }

            log.Flush();
        }

        if (pending.Length > 0)
        {
            Emit([], pending, stream, time.GetUtcNow(), log);
            log.Flush();
        }
    }

    /// <summary>Emits every line the chunk completes; what follows the last newline waits in <paramref name="pending"/>.</summary>
    // Compiled optimized from the first call: a burst right after a start would otherwise run
    // unoptimized code for its first ≈ 100 ms and make the JIT recompile it in the middle.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CutLines(ReadOnlySpan<byte> chunk, MemoryStream pending, OutputStream stream, DateTimeOffset now, UnitLog log)
    {
        var newline = chunk.IndexOf((byte)'\n'); // vectorized
        if (newline >= 0 && pending.Length > 0)
        {
            // The line begun in an earlier read ends here: it is whole only with what waited.
            Emit(chunk[..newline], pending, stream, now, log);
            chunk = chunk[(newline + 1)..];
            newline = chunk.IndexOf((byte)'\n');
        }

        // The lines wholly in this read go to the log together, a batch at a time.
        Span<(int Start, int Length)> lines = stackalloc (int, int)[LinesPerBatch];
        var count = 0;
        var offset = 0;
        while (newline >= 0)
        {
            var length = newline > 0 && chunk[offset + newline - 1] == (byte)'\r' ? newline - 1 : newline;
            lines[count++] = (offset, length);
            offset += newline + 1;
            if (count == LinesPerBatch)
            {
                log.Append(stream, chunk, lines, now);
                count = 0;
            }

            newline = chunk[offset..].IndexOf((byte)'\n');
        }

        log.Append(stream, chunk, lines[..count], now);
        pending.Write(chunk[offset..]);
    }

    /// <summary>Lines handed to the log at once (their offsets live on the stack: 2 KiB).</summary>
    private const int LinesPerBatch = 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Emit(ReadOnlySpan<byte> tail, MemoryStream pending, OutputStream stream, DateTimeOffset now, UnitLog log)
    {
        ReadOnlySpan<byte> line;
        if (pending.Length == 0)
        {
            line = TrimCr(tail);
        }
        else
        {
            pending.Write(tail);
            line = TrimCr(pending.GetBuffer().AsSpan(0, (int)pending.Length));
        }

        log.Append(stream, line, now);
        pending.SetLength(0);
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
}
