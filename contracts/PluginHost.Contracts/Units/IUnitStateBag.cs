namespace PluginHost.Contracts.Units;

/// <summary>Durable text values per unit (store JSON if structure is needed). Keep values small.</summary>
public interface IUnitStateBag
{
    string? Get(string key);

    void Set(string key, string? value);
}
