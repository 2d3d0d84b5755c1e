using System.CommandLine;

namespace EdgeVerifier.Cli;

/// <summary>
/// The command line: <c>serve</c> (the default), <c>keygen</c>, <c>sign</c>, <c>inspect</c>, <c>verify</c>.
/// Exit codes: 0 success, 1 a token did not verify (or a command failed), 2 a bad setting or argument.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadSetting = 2;

    private static readonly string[] TopLevel = ["serve", "keygen", "sign", "inspect", "verify", "healthcheck", "-h", "--help", "-?", "--version"];

    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        // serve is the default command: "edgeverifier --keys k ..." means "edgeverifier serve --keys k ...".
        if (args.Length == 0 || Array.IndexOf(TopLevel, args[0]) < 0)
        {
            args = ["serve", .. args];
        }

        var root = new RootCommand("EdgeVerifier: verifies tokens at the edge (forward auth for nginx, Envoy, Traefik, Caddy).")
        {
            ServeCommand.Create(context),
            KeygenCommand.Create(context),
            SignCommand.Create(context),
            InspectCommand.Create(context),
            VerifyCommand.Create(context),
            HealthcheckCommand.Create(context),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await context.Error.WriteLineAsync("edgeverifier: " + parse.Errors[0].Message).ConfigureAwait(false);
            return BadSetting;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = context.Output, Error = context.Error }).ConfigureAwait(false);
    }
}

/// <summary>What commands talk to: the clock and the console, injected so tests drive them.</summary>
public sealed record CliContext(TimeProvider Time, TextWriter Output, TextWriter Error)
{
    public static CliContext Console => new(TimeProvider.System, System.Console.Out, System.Console.Error);

    public int Fail(int code, string message)
    {
        Error.WriteLine("edgeverifier: " + message);
        return code;
    }
}
