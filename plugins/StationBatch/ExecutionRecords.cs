using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Station.Protocol;

namespace PluginHost.Plugins.StationBatch;

/// <summary>
/// The master's durable record of each execution: one JSON line per event taken, in the order of
/// the worker's numbers, in <c>executions/EXECUTION.jsonl</c> under the unit's data folder. A line
/// is written and flushed to the disk before the event is acknowledged, so an acknowledged event
/// survives a host crash; the file's last number says which events were taken, so one sent again is
/// acknowledged without being taken twice. Not thread-safe: the master's poller thread alone uses it.
/// (Part 2 of the station moves this into SQLite.)
/// </summary>
internal sealed class ExecutionRecords(string folder)
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StringBuilder> _pending = new(StringComparer.Ordinal);

    public string Folder { get; } = folder;

    /// <summary>The executions whose last record does not end them (running, or cut off by a crash).</summary>
    public IEnumerable<string> Unfinished() =>
        Directory.Exists(Folder)
            ? Directory.EnumerateFiles(Folder, "*.jsonl").Select(f => Path.GetFileNameWithoutExtension(f)).Where(e => !IsFinished(e))
            : [];

    /// <summary>The number of the last event taken of <paramref name="execution"/> (0: none).</summary>
    public long Last(string execution)
    {
        if (!_last.TryGetValue(execution, out var last))
        {
            last = Load(execution).LastOrDefault()?["seq"]?.GetValue<long>() ?? 0;
            _last[execution] = last;
        }

        return last;
    }

    /// <summary>
    /// Takes the event if it is the next of its execution (true), to be written by the next
    /// <see cref="Commit"/>: the master acknowledges only what a commit wrote.
    /// </summary>
    public bool TryTake(Envelope message)
    {
        var execution = message.Execution!;
        if (message.Sequence != Last(execution) + 1)
        {
            return false;
        }

        if (!_pending.TryGetValue(execution, out var lines))
        {
            _pending[execution] = lines = new StringBuilder();
        }

        lines.Append(Line(message.Type, message.Sequence.Value, message.Body));
        _last[execution] = message.Sequence.Value;
        return true;
    }

    /// <summary>
    /// Writes what was taken since the last commit, one append and one flush to the disk per
    /// execution (a group commit: a burst of events costs one fsync). On failure nothing of it
    /// counts as taken, so the resends are taken again.
    /// </summary>
    public void Commit()
    {
        try
        {
            foreach (var (execution, lines) in _pending)
            {
                Append(execution, lines.ToString());
            }
        }
        catch
        {
            foreach (var execution in _pending.Keys)
            {
                _last.Remove(execution); // read again from the file: what is there is what was written
            }

            throw;
        }
        finally
        {
            _pending.Clear();
        }
    }

    /// <summary>Ends an execution whose worker died: a SEQUENCE_ABORTED record after what was taken.</summary>
    public long Abort(string execution, string reason)
    {
        var seq = Last(execution) + 1;
        Append(execution, Line(MessageTypes.SequenceAborted, seq, new JsonObject { ["reason"] = reason }));
        _last[execution] = seq;
        return seq;
    }

    /// <summary>Every record of an execution, in order (a line cut short by a crash is left out: it was never acknowledged).</summary>
    public IReadOnlyList<JsonObject> Load(string execution)
    {
        var path = PathOf(execution);
        if (!File.Exists(path))
        {
            return [];
        }

        var records = new List<JsonObject>();
        foreach (var line in File.ReadAllText(path).Split('\n'))
        {
            try
            {
                if (line.Length > 0 && JsonNode.Parse(line) is JsonObject record)
                {
                    records.Add(record);
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // The torn last line of a write a crash interrupted.
            }
        }

        return records;
    }

    private bool IsFinished(string execution) => Load(execution).LastOrDefault()?["type"]?.GetValue<string>() is { } type && MessageTypes.EndsExecution(type);

    private static string Line(string type, long seq, JsonObject? body) =>
        new JsonObject { ["seq"] = seq, ["type"] = type, ["at"] = DateTimeOffset.UtcNow.ToString("O"), ["body"] = body?.DeepClone() }.ToJsonString() + "\n";

    private void Append(string execution, string line)
    {
        Directory.CreateDirectory(Folder);
        var path = PathOf(execution);
        using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.None);
        TrimTornTail(file);
        file.Seek(0, SeekOrigin.End);
        file.Write(Encoding.UTF8.GetBytes(line));
        file.Flush(flushToDisk: true);
    }

    /// <summary>A line a crash cut short is removed before the next is written after it.</summary>
    private static void TrimTornTail(FileStream file)
    {
        if (file.Length == 0)
        {
            return;
        }

        file.Seek(-1, SeekOrigin.End);
        if (file.ReadByte() == '\n')
        {
            return;
        }

        var buffer = new byte[file.Length];
        file.Seek(0, SeekOrigin.Begin);
        file.ReadExactly(buffer);
        file.SetLength(Array.LastIndexOf(buffer, (byte)'\n') + 1);
    }

    private string PathOf(string execution) =>
        execution.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !execution.StartsWith('.')
            ? Path.Combine(Folder, execution + ".jsonl")
            : throw new ArgumentException($"\"{execution}\" is not an execution id", nameof(execution));
}
