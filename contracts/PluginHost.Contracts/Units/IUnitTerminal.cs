namespace PluginHost.Contracts.Units;

/// <summary>The host-owned pseudo-terminal of a unit launched with <see cref="LaunchIo.Pty"/>.</summary>
public interface IUnitTerminal
{
    TerminalSize Size { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken);

    ValueTask ResizeAsync(TerminalSize size, CancellationToken cancellationToken);

    /// <summary>The retained scrollback, as raw bytes.</summary>
    ReadOnlyMemory<byte> Scrollback();
}
