using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Contracts.Units;
using PluginHost.Core.Events;

namespace PluginHost.Core.Storage;

/// <summary>
/// Says when the host cannot write what it keeps on disk (unit logs, the journal, the event journal)
/// and when it can again. Each writer is a <see cref="StorageComponent"/>: its first failure of an
/// episode is a <c>storage_failed</c> event (code <c>DISK_FULL</c> when the file system is full) and
/// an error line; its first success after that is <c>storage_recovered</c> with what was lost.
/// Writers never throw into supervision: they drop (and count) or keep (and retry) instead.
/// </summary>
internal sealed partial class StorageAlarm(EventBus events, TimeProvider time, ILogger logger)
{
    public const string FailedKind = "storage_failed";
    public const string RecoveredKind = "storage_recovered";
    private const string FailedCode = "STORAGE_FAILED";

    private readonly EventPublisher _events = new(events, time, unit: null, plugin: null);
    private readonly Lock _gate = new();
    private readonly List<StorageComponent> _failing = [];

    /// <param name="name">What writes, as an operator reads it: "unit web's log", "journal".</param>
    public StorageComponent Component(string name, string path, string? unit = null) => new(this, name, path, unit);

    /// <summary>The writers failing now, oldest failure first.</summary>
    public IReadOnlyList<StorageAlert> Active()
    {
        lock (_gate)
        {
            return [.. _failing.Select(c => c.Alert!)];
        }
    }

    internal void Raise(StorageComponent component, Exception exception)
    {
        var folder = Path.GetDirectoryName(component.Path) ?? component.Path;
        var error = DiskErrors.IsDiskFull(exception)
            ? DiskErrors.DiskFull(folder, $"writing {component.Name}")
            : new UnitError(FailedCode, $"Cannot write {component.Name} ({component.Path}): {exception.Message}",
                $"Check that {folder} is writable and its device healthy; the host goes on supervising and retries by itself.");
        var alert = new StorageAlert(component.Name, component.Path, component.Unit, error, time.GetUtcNow());
        lock (_gate)
        {
            if (component.Alert is not null)
            {
                return; // another thread announced this episode
            }

            component.Alert = alert;
            _failing.Add(component);
        }

        _events.Publish(FailedKind, new JsonObject
        {
            ["component"] = component.Name,
            ["unit"] = component.Unit,
            ["path"] = component.Path,
            ["code"] = error.Code,
            ["message"] = error.Message,
            ["remedy"] = error.Remedy,
        });
        LogFailed(error.Code, error.Message, error.Remedy);
    }

    internal void Clear(StorageComponent component, string lost)
    {
        StorageAlert? alert;
        lock (_gate)
        {
            alert = component.Alert;
            component.Alert = null;
            _failing.Remove(component);
        }

        if (alert is null)
        {
            return;
        }

        var seconds = Math.Round((time.GetUtcNow() - alert.Since).TotalSeconds, 1);
        _events.Publish(RecoveredKind, new JsonObject
        {
            ["component"] = component.Name,
            ["unit"] = component.Unit,
            ["path"] = component.Path,
            ["failedSeconds"] = seconds,
            ["lost"] = lost,
        });
        LogRecovered(component.Name, seconds, lost);
    }

    internal void Withdraw(StorageComponent component)
    {
        lock (_gate)
        {
            component.Alert = null;
            _failing.Remove(component);
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Error, Message = "[{Code}] {Message} {Remedy}")]
    private partial void LogFailed(string code, string message, string remedy);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Writing {Component} works again after {Seconds} s; lost meanwhile: {Lost}")]
    private partial void LogRecovered(string component, double seconds, string lost);
}

/// <summary>One writer of the host's files, as the alarm knows it. Cheap to ask on every write.</summary>
internal sealed class StorageComponent
{
    private readonly StorageAlarm? _alarm;
    private volatile StorageAlert? _alert;

    internal StorageComponent(StorageAlarm? alarm, string name, string path, string? unit)
    {
        _alarm = alarm;
        Name = name;
        Path = path;
        Unit = unit;
    }

    /// <summary>A writer nobody watches (tests, one-shot tools): failures are still survived, just not announced.</summary>
    public static StorageComponent Unwatched(string name, string path) => new(null, name, path, null);

    public string Name { get; }

    public string Path { get; }

    public string? Unit { get; }

    public bool IsFailing => _alert is not null;

    internal StorageAlert? Alert
    {
        get => _alert;
        set => _alert = value;
    }

    /// <summary>A write failed: the first failure of an episode is announced.</summary>
    public void Failed(Exception exception)
    {
        if (_alert is null)
        {
            if (_alarm is null)
            {
                _alert = new StorageAlert(Name, Path, Unit, new UnitError("STORAGE_FAILED", exception.Message, ""), DateTimeOffset.UtcNow);
            }
            else
            {
                _alarm.Raise(this, exception);
            }
        }
    }

    /// <summary>The writer is gone (a removed unit's log): whatever it failed to write is no longer anyone's alert.</summary>
    public void Retire()
    {
        if (_alert is not null)
        {
            if (_alarm is null)
            {
                _alert = null;
            }
            else
            {
                _alarm.Withdraw(this);
            }
        }
    }

    /// <summary>A write worked: ends a failure episode, saying what it cost (<paramref name="lost"/>: "12 lines", "nothing").</summary>
    public void Succeeded(string lost)
    {
        if (_alert is not null)
        {
            if (_alarm is null)
            {
                _alert = null;
            }
            else
            {
                _alarm.Clear(this, lost);
            }
        }
    }
}

/// <summary>A writer that is failing now: since when, and the coded error an operator sees.</summary>
internal sealed record StorageAlert(string Component, string Path, string? Unit, UnitError Error, DateTimeOffset Since);
