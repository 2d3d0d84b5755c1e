using System.CommandLine;

namespace EdgeVerifier.Cli;

/// <summary>
/// <c>healthcheck</c>: GET a running verifier's <c>/healthz</c> (or <c>/readyz</c>) and exit 0 on 200,
/// 1 otherwise. For exec-form container health checks where the image has no shell or curl.
/// </summary>
internal static class HealthcheckCommand
{
    public static Command Create(CliContext context)
    {
        var url = new Option<string>("--url") { Description = "What to probe (default: the first of EDGEVERIFIER_URLS, on 127.0.0.1, + /healthz)" };
        var ready = new Option<bool>("--ready") { Description = "Probe /readyz instead of /healthz" };
        var timeout = new Option<int>("--timeout-ms") { Description = "Give up after this long", DefaultValueFactory = _ => 2000 };
        var command = new Command("healthcheck", "Probe a running verifier (exit 0 healthy, 1 not)") { url, ready, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(url) ?? DefaultUrl(Environment.GetEnvironmentVariable("EDGEVERIFIER_URLS"), parse.GetValue(ready));
            if (target is null || !Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return context.Fail(CliApp.BadSetting, $"--url: '{target}' is not an http(s) URL");
            }

            using var client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(Math.Max(100, parse.GetValue(timeout))) };
            try
            {
                using var response = await client.GetAsync(uri, cancellationToken).ConfigureAwait(false);
                await context.Output.WriteLineAsync($"{(int)response.StatusCode} {uri}").ConfigureAwait(false);
                return response.IsSuccessStatusCode ? CliApp.Ok : CliApp.Failed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await context.Error.WriteLineAsync($"edgeverifier: {uri}: {e.Message}").ConfigureAwait(false);
                return CliApp.Failed;
            }
        });
        return command;
    }

    /// <summary>The first configured URL with a wildcard host replaced by 127.0.0.1, plus the probe path.</summary>
    internal static string? DefaultUrl(string? urls, bool ready)
    {
        var first = (urls ?? "http://127.0.0.1:8080").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var head, ..] ? head : "http://127.0.0.1:8080";
        var wildcard = first.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal);
        return wildcard.TrimEnd('/') + (ready ? "/readyz" : "/healthz");
    }
}
