namespace TestSharedLib;

public static class SharedLib
{
    public static string Version => typeof(SharedLib).Assembly.GetName().Version!.ToString();

    public static string Greeting => "v1";
}
