using System.Text.Json;
using EdgeVerifier.Policy;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Http;

/// <summary><c>POST /v1/verify</c> for services that call the verifier directly, and <c>GET /v1/time</c>.</summary>
internal static class ApiEndpoints
{
    public static async Task VerifyAsync(HttpContext context, EndpointState state)
    {
        var requestId = RequestIds.Apply(context);
        try
        {
            var token = await ReadTokenAsync(context, state).ConfigureAwait(false);
            if (token.Error != VerifyError.None)
            {
                await WriteAsync(context, VerifyResult.Fail(token.Error), requestId).ConfigureAwait(false);
                return;
            }

            // The same pipeline as /verify: revocation and the access policy apply (the path scope against
            // X-Forwarded-Uri / X-Original-URI when the caller sends one).
            var pipeline = state.Pipeline;
            var target = pipeline.Policy.NeedsTarget ? ForwardedTarget.From(context.Request.Headers) : default;
            var verified = await pipeline.VerifyAsync(token.Value, includePayload: true, context.RequestAborted).ConfigureAwait(false);
            var result = pipeline.Authorize(verified, target);
            if (!result.IsValid)
            {
                Diagnostics.Log.TokenRefused(state.Logger, result.Error.Code(), result.Kid);
            }

            await WriteAsync(context, result, requestId).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is JsonException or BadHttpRequestException)
        {
            await WriteInvalidRequestAsync(context, requestId, "the body is not a JSON object {\"token\":\"...\"}").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await ForwardAuthEndpoint.Unexpected(context, state, requestId, e).ConfigureAwait(false);
        }
    }

    private static async Task<(VerifyError Error, ReadOnlyMemory<char> Value)> ReadTokenAsync(HttpContext context, EndpointState state)
    {
        var max = state.Verifier.Policy.MaxTokenLength;
        if (context.Request.HasJsonContentType())
        {
            var body = await context.Request.ReadFromJsonAsync(HttpJsonContext.Default.VerifyRequest, context.RequestAborted).ConfigureAwait(false);
            if (body?.Token is { Length: > 0 } token)
            {
                return token.Length > max ? (VerifyError.TokenTooLarge, default) : (VerifyError.None, token.AsMemory());
            }
        }

        // No token in the body: fall back to the Authorization header.
        var error = CredentialExtractor.FromAuthorization(context.Request.Headers.Authorization, max, out var fromHeader);
        return (error, fromHeader);
    }

    private static async Task WriteAsync(HttpContext context, VerifyResult result, string requestId)
    {
        var response = context.Response;
        response.StatusCode = result.Error.HttpStatus();
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var json = new Utf8JsonWriter(response.BodyWriter);
        await using var _ = json.ConfigureAwait(false);
        json.WriteStartObject();
        json.WriteBoolean("valid", result.IsValid);
        if (result.Token is { } token)
        {
            WriteOptional(json, "sub", token.Subject);
            WriteOptional(json, "iss", token.Issuer);
            WriteOptional(json, "kid", token.Kid);
            if (token.Introspected)
            {
                json.WriteBoolean("introspected", true);
            }
            else
            {
                json.WriteString("alg", token.Algorithm.Name());
            }

            if (double.IsFinite(token.ExpiresAt))
            {
                json.WriteNumber("exp", token.ExpiresAt);
            }

            if (token.Payload is { } payload)
            {
                json.WritePropertyName("claims");
                json.WriteRawValue(payload, skipInputValidation: false);
            }
        }
        else
        {
            json.WriteString("error", result.Error.Code());
            json.WriteString("message", result.Error.Message());
        }

        json.WriteString("requestId", requestId);
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteInvalidRequestAsync(HttpContext context, string requestId, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status400BadRequest;
        response.ContentType = "application/json";
        var json = new Utf8JsonWriter(response.BodyWriter);
        await using var _ = json.ConfigureAwait(false);
        json.WriteStartObject();
        json.WriteBoolean("valid", false);
        json.WriteString("error", "invalid_request");
        json.WriteString("message", message);
        json.WriteString("requestId", requestId);
        json.WriteEndObject();
        await json.FlushAsync().ConfigureAwait(false);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    public static Task TimeAsync(HttpContext context, EndpointState state)
    {
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new TimeResponse { Now = state.Time.GetUtcNow().ToUnixTimeSeconds() }, HttpJsonContext.Default.TimeResponse);
    }
}
