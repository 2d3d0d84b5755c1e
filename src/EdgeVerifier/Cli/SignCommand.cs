using System.Buffers;
using System.Buffers.Text;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Cli;

/// <summary><c>sign</c>: make a token. <c>--ttl</c> is relative to now, <c>--exp</c> absolute; they exclude each other.</summary>
internal static class SignCommand
{
    public static Command Create(CliContext context)
    {
        var key = new Option<string>("--key") { Description = "The private JWK file", Required = true };
        var alg = new Option<string>("--alg") { Description = "Override the key's alg" };
        var kid = new Option<string>("--kid") { Description = "Override the kid in the header" };
        var iss = new Option<string>("--iss") { Description = "Issuer" };
        var aud = new Option<string[]>("--aud") { Description = "Audience (repeatable: several give an array)" };
        var sub = new Option<string>("--sub") { Description = "Subject" };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime from now: 90s, 15m, 1h, 7d (default 1h)" };
        var exp = new Option<long?>("--exp") { Description = "Absolute expiry, Unix seconds" };
        var claims = new Option<string[]>("--claim") { Description = "Extra claim name=value (value may be JSON); repeatable" };
        var command = new Command("sign", "Sign a token with a private JWK") { key, alg, kid, iss, aud, sub, ttl, exp, claims };
        command.SetAction(parse =>
        {
            if (parse.GetValue(ttl) is not null && parse.GetValue(exp) is not null)
            {
                return context.Fail(CliApp.BadSetting, "--ttl and --exp exclude each other (relative vs absolute expiry)");
            }

            var lifetime = TimeSpan.FromHours(1);
            if (parse.GetValue(ttl) is { } ttlText && !TryParseDuration(ttlText, out lifetime))
            {
                return context.Fail(CliApp.BadSetting, $"--ttl: '{ttlText}' is not a duration like 90s, 15m, 1h or 7d");
            }

            var algorithm = SigningAlgorithm.Unknown;
            if (parse.GetValue(alg) is { } algText && (algorithm = SigningAlgorithms.Parse(algText)) == SigningAlgorithm.Unknown)
            {
                return context.Fail(CliApp.BadSetting, $"--alg: '{algText}' is not a supported algorithm");
            }

            if (parse.GetValue(kid) is { } kidText && !HeaderReader.IsValidKid(kidText))
            {
                return context.Fail(CliApp.BadSetting, $"--kid: '{kidText}' is not of the form [A-Za-z0-9_-]{{1,128}}");
            }

            var path = parse.GetValue(key)!;
            if (!File.Exists(path))
            {
                return context.Fail(CliApp.BadSetting, $"--key: '{path}' does not exist");
            }

            using var signing = SigningKey.FromJson(File.ReadAllBytes(path), algorithm, out var error);
            if (signing is null)
            {
                return context.Fail(CliApp.BadSetting, $"--key: {error}");
            }

            // A claim written twice makes a token every verifier refuses (duplicates are malformed).
            var written = new HashSet<string>(StringComparer.Ordinal) { "iat", "exp", "jti" };
            foreach (var (name, option) in (ReadOnlySpan<(string, Option<string>)>)[("iss", iss), ("sub", sub)])
            {
                if (parse.GetValue(option) is not null)
                {
                    written.Add(name);
                }
            }

            if (parse.GetValue(aud) is { Length: > 0 })
            {
                written.Add("aud");
            }

            foreach (var claim in parse.GetValue(claims) ?? [])
            {
                var eq = claim.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && !written.Add(claim[..eq]))
                {
                    return context.Fail(CliApp.BadSetting, $"--claim: '{claim[..eq]}' is already set (iat, exp and jti are always written; use --iss, --sub, --aud, --ttl or --exp for those)");
                }
            }

            var now = context.Time.GetUtcNow().ToUnixTimeSeconds();
            var payload = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(payload))
            {
                json.WriteStartObject();
                WriteOptional(json, "iss", parse.GetValue(iss));
                WriteOptional(json, "sub", parse.GetValue(sub));
                if (parse.GetValue(aud) is { Length: > 0 } audiences)
                {
                    if (audiences.Length == 1)
                    {
                        json.WriteString("aud", audiences[0]);
                    }
                    else
                    {
                        json.WriteStartArray("aud");
                        foreach (var a in audiences)
                        {
                            json.WriteStringValue(a);
                        }

                        json.WriteEndArray();
                    }
                }

                json.WriteNumber("iat", now);
                json.WriteNumber("exp", parse.GetValue(exp) ?? now + (long)lifetime.TotalSeconds);
                json.WriteString("jti", Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)));
                foreach (var claim in parse.GetValue(claims) ?? [])
                {
                    var eq = claim.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        return context.Fail(CliApp.BadSetting, $"--claim: '{claim}' is not name=value");
                    }

                    json.WritePropertyName(claim[..eq]);
                    WriteValue(json, claim[(eq + 1)..]);
                }

                json.WriteEndObject();
            }

            context.Output.WriteLine(TokenWriter.Sign(signing, payload.WrittenSpan, parse.GetValue(kid)));
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>90s, 15m, 1h, 7d, or plain seconds.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length == 0)
        {
            return false;
        }

        var unit = text[^1];
        var digits = char.IsAsciiDigit(unit) ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > 10L * 365 * 86400)
        {
            return false;
        }

        var seconds = unit switch
        {
            's' => value,
            'm' => value * 60,
            'h' => value * 3600,
            'd' => value * 86400,
            _ when char.IsAsciiDigit(unit) => value,
            _ => -1,
        };
        duration = TimeSpan.FromSeconds(seconds);
        return seconds > 0;
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    // A value that parses as JSON (number, true, [..], {..}, "..") is written as such, else as a string.
    private static void WriteValue(Utf8JsonWriter json, string value)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            document.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteStringValue(value);
        }
    }
}
