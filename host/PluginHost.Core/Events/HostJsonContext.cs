using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PluginHost.Core.Events;

/// <summary>Source-generated serialization for host-owned types: no reflection caches that could root plugin types.</summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class HostJsonContext : JsonSerializerContext;
