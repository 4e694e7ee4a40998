using System.Text;
using PluginHost.Contracts.Equipment;
using PluginHost.Contracts.Plugins;

namespace TestPlugins.EditionDriver;

/// <summary>Registers <c>test-edition</c>: an instrument whose <c>EDITION?</c> answers the edition it was built as.</summary>
public sealed class EditionDriverPlugin : IPlugin
{
#if EDITION_2
    internal const string Edition = "2";
#else
    internal const string Edition = "1";
#endif

    public void Configure(IPluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEquipmentDriver("test-edition", () => new EditionInstrument());
    }

    private sealed class EditionInstrument : IEquipmentDriver
    {
        public ValueTask ConnectAsync(EquipmentEndpoint endpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisconnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<EquipmentIdentity> IdentifyAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(new EquipmentIdentity("PluginHost", "EDITION", "0", Edition));

        public ValueTask<EquipmentReply> QueryAsync(string command, CancellationToken cancellationToken) => command == "EDITION?"
            ? ValueTask.FromResult(new EquipmentReply(Edition, Encoding.ASCII.GetBytes(Edition)))
            : throw new EquipmentException(EquipmentCodes.BadCommand, $"\"{command}\": the edition instrument answers EDITION? only");

        public ValueTask WriteAsync(string command, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
