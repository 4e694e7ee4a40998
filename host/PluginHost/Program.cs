using PluginHost.Cli;

return await CommandLine.InvokeAsync(args);
