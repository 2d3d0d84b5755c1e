using EdgeVerifier.Diagnostics;
using EdgeVerifier.Replay;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Http;

/// <summary>What every handler needs, built once at start-up.</summary>
internal sealed class EndpointState(TokenVerifier verifier, ErrorResponses errors, TimeProvider time, ILogger logger, ReplayGuard? replay = null)
{
    /// <summary>DPoP and one-time tokens; null when both are switched off.</summary>
    public ReplayGuard? Replay { get; } = replay;

    public TokenVerifier Verifier { get; } = verifier;

    public ErrorResponses Errors { get; } = errors;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;
}

/// <summary>
/// <c>GET|HEAD|POST /verify[/{**path}]</c>: forward auth for nginx <c>auth_request</c>, Envoy
/// <c>ext_authz</c>, Traefik <c>forwardAuth</c> and Caddy <c>forward_auth</c>.
/// </summary>
internal static class ForwardAuthEndpoint
{
    public const string SubjectHeader = "X-Auth-Subject";
    public const string IssuerHeader = "X-Auth-Issuer";

    public static Task HandleAsync(HttpContext context, EndpointState state)
    {
        var requestId = RequestIds.Apply(context);
        try
        {
            var verifier = state.Verifier;
            var error = CredentialExtractor.FromAuthorization(context.Request.Headers.Authorization, verifier.Policy.MaxTokenLength, out var token, out var scheme);
            if (error != VerifyError.None)
            {
                return Refuse(context, state, VerifyResult.Fail(error), requestId);
            }

            var pending = verifier.VerifyAsync(token, includePayload: false, context.RequestAborted);
            return pending.IsCompletedSuccessfully
                ? Respond(context, state, pending.Result, token, scheme, requestId)
                : AwaitThenRespond(context, state, pending, token, scheme, requestId);
        }
        catch (Exception e)
        {
            return Unexpected(context, state, requestId, e);
        }
    }

    private static async Task AwaitThenRespond(HttpContext context, EndpointState state, ValueTask<VerifyResult> pending, ReadOnlyMemory<char> accessToken, AuthScheme scheme, string requestId)
    {
        VerifyResult result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away; nobody is left to answer.
        }
        catch (Exception e)
        {
            await Unexpected(context, state, requestId, e).ConfigureAwait(false);
            return;
        }

        await Respond(context, state, result, accessToken, scheme, requestId).ConfigureAwait(false);
    }

    private static Task Respond(HttpContext context, EndpointState state, VerifyResult result, ReadOnlyMemory<char> accessToken, AuthScheme scheme, string requestId)
    {
        if (!result.IsValid)
        {
            return scheme == AuthScheme.DPoP
                ? RefuseDpop(context, state, result.Error, DpopFailure.None, requestId)
                : Refuse(context, state, result, requestId);
        }

        var token = result.Token!;
        if (scheme == AuthScheme.DPoP || token.ConfirmationThumbprint is not null || state.Replay is { OneTimeTokens: true })
        {
            var guard = state.Replay is { } replay
                ? replay.Check(token, scheme, accessToken.Span, context.Request.Headers["DPoP"], ClientRequest.Method(context.Request), ClientRequest.Url(context.Request))
                : new GuardResult(scheme == AuthScheme.DPoP ? VerifyError.DpopInvalid : VerifyError.DpopRequired, scheme == AuthScheme.DPoP ? DpopFailure.Missing : DpopFailure.None);
            if (!guard.IsValid)
            {
                return guard.Failure != DpopFailure.None || guard.Error == VerifyError.DpopRequired || scheme == AuthScheme.DPoP
                    ? RefuseDpop(context, state, guard.Error, guard.Failure, requestId)
                    : Refuse(context, state, VerifyResult.Fail(guard.Error, token.Kid), requestId);
            }
        }

        var response = context.Response;
        var headers = response.Headers;
        response.StatusCode = StatusCodes.Status200OK;
        headers.CacheControl = "no-store";
        if (token.Subject is { } subject)
        {
            headers[SubjectHeader] = HeaderValues.Safe(subject);
        }

        if (token.Issuer is { } issuer)
        {
            headers[IssuerHeader] = HeaderValues.Safe(issuer);
        }

        if (token.HeaderValues is { } values)
        {
            var names = state.Verifier.Policy.Claims.HeaderNames;
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] is { } value)
                {
                    headers[names[i]] = HeaderValues.Safe(value);
                }
            }
        }

        return Task.CompletedTask;
    }

    internal static Task Refuse(HttpContext context, EndpointState state, VerifyResult result, string requestId)
    {
        if (result.Error == VerifyError.KeySourceUnavailable)
        {
            Log.KeySourceUnavailable(state.Logger, result.Kid);
        }
        else
        {
            Log.TokenRefused(state.Logger, result.Error.Code(), result.Kid);
        }

        return state.Errors.WriteAsync(context, result.Error, requestId);
    }

    private static Task RefuseDpop(HttpContext context, EndpointState state, VerifyError error, DpopFailure failure, string requestId)
    {
        Log.TokenRefused(state.Logger, failure == DpopFailure.None ? error.Code() : error.Code() + "/" + failure, null);
        return state.Errors.WriteDpopAsync(context, error, failure, state.Replay?.DpopAlgorithms, requestId);
    }

    internal static Task Unexpected(HttpContext context, EndpointState state, string requestId, Exception e)
    {
        // A bug, not an expected failure: log it and fail closed with a retryable 503, never a 500.
        Log.UnexpectedError(state.Logger, context.Request.Path, e);
        return context.Response.HasStarted ? Task.CompletedTask : state.Errors.WriteAsync(context, VerifyError.InternalError, requestId);
    }
}
