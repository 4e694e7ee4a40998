using System.Text.Json.Serialization;

namespace PluginHost.Core.Storage;

[JsonSerializable(typeof(IReadOnlyDictionary<string, int>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
