using System.Buffers.Text;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Cli;

/// <summary><c>inspect</c>: decode a token's header and payload. Verifies nothing.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var token = new Argument<string>("token") { Description = "The token (or - to read it from standard input)" };
        var command = new Command("inspect", "Decode a token without verifying it") { token };
        command.SetAction(parse =>
        {
            var text = parse.GetValue(token)!;
            if (text == "-")
            {
                text = Console.In.ReadToEnd();
            }

            text = text.Trim();
            if (TokenVerifier.Split(text, int.MaxValue, out var dot1, out var dot2) != VerifyError.None)
            {
                return context.Fail(CliApp.Failed, "not a compact JWS (three base64url segments)");
            }

            if (!TryDecode(text[..dot1], out string header) || !TryPrettyWithTimes(text[(dot1 + 1)..dot2], out var payload))
            {
                return context.Fail(CliApp.Failed, "a segment is not base64url-encoded JSON");
            }

            context.Output.WriteLine("header:");
            context.Output.WriteLine(header);
            context.Output.WriteLine("payload:");
            context.Output.WriteLine(payload.Json);
            var now = context.Time.GetUtcNow();
            foreach (var name in (ReadOnlySpan<string>)["iat", "nbf", "exp"])
            {
                if (payload.Times.TryGetValue(name, out var seconds))
                {
                    var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
                    var delta = at - now;
                    var relative = delta >= TimeSpan.Zero ? $"in {Format(delta)}" : $"{Format(-delta)} ago";
                    context.Output.WriteLine($"{name}: {at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} ({relative})");
                }
            }

            context.Output.WriteLine("signature: not verified (use 'edgeverifier verify')");
            return CliApp.Ok;
        });
        return command;
    }

    private static bool TryPrettyWithTimes(string segment, out (string Json, Dictionary<string, long> Times) result)
    {
        result = default;
        if (!TryDecode(segment, out string json))
        {
            return false;
        }

        var times = new Dictionary<string, long>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in (ReadOnlySpan<string>)["iat", "nbf", "exp"])
            {
                if (document.RootElement.TryGetProperty(name, out var value) && value.TryGetInt64(out var seconds)
                    && seconds is > -62135596800 and < 253402300800)
                {
                    times[name] = seconds;
                }
            }
        }

        result = (json, times);
        return true;
    }

    private static bool TryDecode(string segment, out string json)
    {
        json = string.Empty;
        try
        {
            var bytes = Base64Url.DecodeFromChars(segment);
            using var document = JsonDocument.Parse(bytes);
            json = JsonSerializer.Serialize(document.RootElement, InspectJsonContext.Default.JsonElement);
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
    }

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{(int)span.TotalDays}d {span.Hours}h"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m {span.Seconds}s"
        : $"{(int)span.TotalSeconds}s";
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class InspectJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
