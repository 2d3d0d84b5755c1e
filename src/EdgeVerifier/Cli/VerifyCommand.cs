using System.CommandLine;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeVerifier.Cli;

/// <summary><c>verify</c>: an offline check of one token. Exit 0 valid, 1 invalid, 2 bad arguments.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext context)
    {
        var keys = new Option<string>("--keys") { Description = "A JWK / JWK Set file, or a directory of {kid}.jwk files", Required = true };
        var issuers = new Option<string[]>("--issuer") { Description = "An accepted iss (repeatable; when absent the issuer is not checked)" };
        var audiences = new Option<string[]>("--audience") { Description = "An accepted aud (repeatable; when absent the audience is not checked)" };
        var token = new Argument<string>("token") { Description = "The token (or - to read it from standard input)" };
        var command = new Command("verify", "Verify one token offline") { keys, issuers, audiences, token };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new VerifierOptions
            {
                Keys = parse.GetValue(keys),
                Issuers = parse.GetValue(issuers) ?? [],
                Audiences = parse.GetValue(audiences) ?? [],
            };
            options.AnyIssuer = options.Issuers.Length == 0;
            options.AnyAudience = options.Audiences.Length == 0;
            if (SettingsLoader.Validate(options) is { } invalid)
            {
                return context.Fail(CliApp.BadSetting, invalid.Replace("Keys:", "--keys:", StringComparison.Ordinal));
            }

            using var loader = new KeyFileLoader();
            using var resolver = VerifierFactory.CreateKeys(options, loader, context.Time, NullLoggerFactory.Instance, out var error);
            if (resolver is null)
            {
                return context.Fail(CliApp.BadSetting, error!.Replace("Keys:", "--keys:", StringComparison.Ordinal));
            }

            var text = parse.GetValue(token)!;
            if (text == "-")
            {
                text = await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            }

            var verifier = new Tokens.TokenVerifier(VerifierFactory.CreatePolicy(options), resolver, context.Time);
            var result = await verifier.VerifyAsync(text.Trim().AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!result.IsValid)
            {
                await context.Output.WriteLineAsync($"invalid: {Tokens.VerifyErrors.Code(result.Error)}: {Tokens.VerifyErrors.Message(result.Error)}").ConfigureAwait(false);
                return CliApp.Failed;
            }

            var t = result.Token!;
            await context.Output.WriteLineAsync($"valid: sub={t.Subject ?? "-"} iss={t.Issuer ?? "-"} kid={t.Kid ?? "-"} alg={Tokens.SigningAlgorithms.Name(t.Algorithm)}").ConfigureAwait(false);
            if (options.AnyIssuer || options.AnyAudience)
            {
                await context.Error.WriteLineAsync($"note: not checked: {(options.AnyIssuer ? "issuer " : "")}{(options.AnyAudience ? "audience" : "")}".TrimEnd()).ConfigureAwait(false);
            }

            return CliApp.Ok;
        });
        return command;
    }
}
