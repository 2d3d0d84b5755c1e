using System.Text;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Http;

/// <summary>
/// Refusals: status, <c>WWW-Authenticate</c> (RFC 6750 §3) and the JSON body
/// <c>{"error":…,"message":…,"requestId":…}</c>, pre-encoded per code at start-up.
/// A 403 carries <c>Bearer error="insufficient_scope"</c> and, when scopes are required, the
/// <c>scope</c> attribute listing them (RFC 6750 §3.1).
/// </summary>
internal sealed class ErrorResponses
{
    private readonly byte[][] _bodyPrefix;
    private readonly string[] _challenge;
    private readonly string _retryAfter;
    private static readonly byte[] BodySuffix = "\"}"u8.ToArray();

    /// <param name="retryAfterSeconds"><c>Retry-After</c> on 503 answers.</param>
    /// <param name="requiredScopes">The configured required scopes (space-separated), for the 403 challenge; null when none.</param>
    public ErrorResponses(int retryAfterSeconds, string? requiredScopes = null)
    {
        _retryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _bodyPrefix = new byte[VerifyErrors.Count][];
        _challenge = new string[VerifyErrors.Count];
        for (var i = 0; i < VerifyErrors.Count; i++)
        {
            var error = (VerifyError)i;
            _bodyPrefix[i] = Encoding.UTF8.GetBytes($"{{\"error\":\"{error.Code()}\",\"message\":\"{error.Message()}\",\"requestId\":\"");

            // RFC 6750 §3.1: a request without credentials gets a bare challenge; a good token without the
            // needed rights gets insufficient_scope (403) naming the scopes it lacks.
            _challenge[i] = error == VerifyError.MissingToken
                ? "Bearer"
                : error == VerifyError.InsufficientScope && !string.IsNullOrEmpty(requiredScopes)
                    ? $"Bearer error=\"insufficient_scope\", scope=\"{requiredScopes}\", error_description=\"{error.Message()}\""
                    : error.HttpStatus() == StatusCodes.Status403Forbidden
                        ? $"Bearer error=\"insufficient_scope\", error_description=\"{error.Message()}\""
                        : $"Bearer error=\"invalid_token\", error_description=\"{error.Message()}\"";
        }
    }

    /// <summary>Writes the refusal. <paramref name="requestId"/> is already restricted to safe characters.</summary>
    public Task WriteAsync(HttpContext context, VerifyError error, string requestId)
    {
        var response = context.Response;
        response.StatusCode = error.HttpStatus();
        Diagnostics.EdgeMetrics.Verification(error);
        response.Headers.CacheControl = "no-store";
        if (response.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
        {
            response.Headers.WWWAuthenticate = _challenge[(int)error];
        }
        else if (response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = _retryAfter;
        }

        response.ContentType = "application/json";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        var prefix = _bodyPrefix[(int)error];
        var writer = response.BodyWriter;
        var length = prefix.Length + requestId.Length + BodySuffix.Length;
        response.ContentLength = length;
        var span = writer.GetSpan(length);
        prefix.CopyTo(span);
        var written = prefix.Length + Encoding.ASCII.GetBytes(requestId, span[prefix.Length..]);
        BodySuffix.CopyTo(span[written..]);
        writer.Advance(length);
        return writer.FlushAsync().AsTask();
    }

    /// <summary>
    /// A refusal under the DPoP scheme (RFC 9449 §7.1): <c>WWW-Authenticate: DPoP
    /// error="invalid_dpop_proof"</c> for a bad proof, <c>error="invalid_token"</c> for a bad token,
    /// with <c>algs</c>; the body names the precise reason.
    /// </summary>
    public async Task WriteDpopAsync(HttpContext context, VerifyError error, Replay.DpopFailure failure, string? algorithms, string requestId)
    {
        var response = context.Response;
        response.StatusCode = error.HttpStatus();
        Diagnostics.EdgeMetrics.Verification(error);
        response.Headers.CacheControl = "no-store";
        var message = failure is Replay.DpopFailure.None or Replay.DpopFailure.Replayed or Replay.DpopFailure.StoreFull ? error.Message() : Replay.DpopFailures.Describe(failure);
        if (response.StatusCode == StatusCodes.Status401Unauthorized)
        {
            var proofProblem = failure is not (Replay.DpopFailure.None or Replay.DpopFailure.NotBound);
            var algs = algorithms is null ? string.Empty : $", algs=\"{algorithms}\"";
            response.Headers.WWWAuthenticate = $"DPoP error=\"{(proofProblem ? "invalid_dpop_proof" : "invalid_token")}\", error_description=\"{message}\"{algs}";
        }
        else if (response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = _retryAfter;
        }

        response.ContentType = "application/json";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var json = new System.Text.Json.Utf8JsonWriter(response.BodyWriter);
        await using var _ = json.ConfigureAwait(false);
        json.WriteStartObject();
        json.WriteString("error", error.Code());
        json.WriteString("message", message);
        json.WriteString("requestId", requestId);
        json.WriteEndObject();
        await json.FlushAsync().ConfigureAwait(false);
    }
}
