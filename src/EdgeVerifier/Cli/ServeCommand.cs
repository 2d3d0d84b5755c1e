using System.CommandLine;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;

namespace EdgeVerifier.Cli;

/// <summary><c>serve</c>: run the HTTP service.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var keys = new Option<string>("--keys") { Description = "A JWK / JWK Set file, or a directory of {kid}.jwk files" };
        var issuers = new Option<string[]>("--issuer") { Description = "An accepted iss (repeatable)" };
        var audiences = new Option<string[]>("--audience") { Description = "An accepted aud (repeatable)" };
        var urls = new Option<string>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:8080" };
        var config = new Option<string>("--config") { Description = "A settings file (default: ./edgeverifier.json when present)" };
        var command = new Command("serve", "Run the verifier (the default command)") { keys, issuers, audiences, urls, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var ok = SettingsLoader.TryLoad(
                parse.GetValue(config),
                o =>
                {
                    o.Keys = parse.GetValue(keys) ?? o.Keys;
                    o.Issuers = parse.GetValue(issuers) is { Length: > 0 } i ? i : o.Issuers;
                    o.Audiences = parse.GetValue(audiences) is { Length: > 0 } a ? a : o.Audiences;
                    o.Urls = parse.GetValue(urls) ?? o.Urls;
                },
                out var options,
                out var configuration,
                out var error);
            if (!ok)
            {
                return context.Fail(CliApp.BadSetting, error!);
            }

            var app = VerifierApp.Create(options, configuration, context.Time, out error);
            if (app is null)
            {
                return context.Fail(CliApp.BadSetting, error!);
            }

            await using (app.ConfigureAwait(false))
            {
                try
                {
                    // System.CommandLine owns SIGTERM/SIGINT: it cancels this token and, unless the action
                    // returns within its termination timeout, exits 143/130. Stopping on the token makes
                    // a signal a graceful shutdown with exit code 0.
                    await app.RunAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    // Kestrel could not bind (port in use, no permission).
                    return context.Fail(CliApp.BadSetting, "Urls: " + e.Message);
                }
            }

            return CliApp.Ok;
        });
        return command;
    }
}
