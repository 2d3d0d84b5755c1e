using EdgeVerifier.Cli;

[module: System.Runtime.CompilerServices.SkipLocalsInit]

return await CliApp.RunAsync(args, CliContext.Console).ConfigureAwait(false);
