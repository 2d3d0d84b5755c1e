using EdgeVerifier.Diagnostics;
using EdgeVerifier.Replay;
using EdgeVerifier.Policy;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Http;

/// <summary>What every handler needs, built once at start-up.</summary>
internal sealed class EndpointState(VerificationPipeline pipeline, ErrorResponses errors, TimeProvider time, ILogger logger, ReplayGuard? replay = null)
{
    public VerificationPipeline Pipeline { get; } = pipeline;

    /// <summary>DPoP and one-time tokens; null when both are switched off.</summary>
    public ReplayGuard? Replay { get; } = replay;

    public TokenVerifier Verifier => Pipeline.Jwt;

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
            var pipeline = state.Pipeline;
            var policy = pipeline.Policy;
            var target = policy.NeedsTarget ? ForwardedTarget.From(context.Request.Headers) : default;
            if (policy.PublicPaths.Length > 0 && policy.IsPublic(target.Path))
            {
                return Public(context, state, target);
            }

            var error = Extract(context, pipeline, target, out var token, out var scheme);
            if (error != VerifyError.None)
            {
                return Refuse(context, state, VerifyResult.Fail(error), requestId, target);
            }

            var pending = pipeline.VerifyAsync(token, includePayload: false, context.RequestAborted);
            return pending.IsCompletedSuccessfully
                ? Respond(context, state, pipeline.Authorize(pending.Result, target), token, scheme, requestId, target)
                : AwaitThenRespond(context, state, pending, token, scheme, requestId, target);
        }
        catch (Exception e)
        {
            return Unexpected(context, state, requestId, e);
        }
    }

    /// <summary>
    /// DESIGN.md step 1: the Authorization header, or (opt-in) the query parameter of the forwarded
    /// target — or of this request when no target was forwarded. Both at once is two credentials
    /// (RFC 6750 §2: one method per request).
    /// </summary>
    internal static VerifyError Extract(HttpContext context, VerificationPipeline pipeline, in ForwardedTarget target, out ReadOnlyMemory<char> token, out AuthScheme scheme)
    {
        var max = pipeline.MaxTokenLength;
        var error = CredentialExtractor.FromAuthorization(context.Request.Headers.Authorization, max, out token, out scheme);
        var policy = pipeline.Policy;
        if (policy.QueryParameter is null)
        {
            return error;
        }

        var query = target.Raw ?? (target.Ambiguous ? null : context.Request.QueryString.Value);
        var fromQuery = policy.FromQuery(query, max, out var queryToken);
        if (fromQuery == VerifyError.MissingToken)
        {
            return error;
        }

        if (error != VerifyError.MissingToken)
        {
            token = default;
            return VerifyError.MultipleTokens;
        }

        token = queryToken;
        return fromQuery;
    }

    private static Task Public(HttpContext context, EndpointState state, in ForwardedTarget target)
    {
        Log.PublicPath(state.Logger, target.Path!);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    private static async Task AwaitThenRespond(HttpContext context, EndpointState state, ValueTask<VerifyResult> pending, ReadOnlyMemory<char> accessToken, AuthScheme scheme, string requestId, ForwardedTarget target)
    {
        VerifyResult result;
        try
        {
            result = state.Pipeline.Authorize(await pending.ConfigureAwait(false), target);
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

        await Respond(context, state, result, accessToken, scheme, requestId, target).ConfigureAwait(false);
    }

    private static Task Respond(HttpContext context, EndpointState state, VerifyResult result, ReadOnlyMemory<char> accessToken, AuthScheme scheme, string requestId, in ForwardedTarget target)
    {
        if (!result.IsValid)
        {
            // Under the DPoP scheme a 401 carries the DPoP challenge; a 403 keeps its scope challenge.
            return scheme == AuthScheme.DPoP && result.Error.HttpStatus() == StatusCodes.Status401Unauthorized
                ? RefuseDpop(context, state, result.Error, DpopFailure.None, requestId)
                : Refuse(context, state, result, requestId, target);
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
                    : Refuse(context, state, VerifyResult.Fail(guard.Error, token.Kid), requestId, target);
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

    internal static Task Refuse(HttpContext context, EndpointState state, VerifyResult result, string requestId, in ForwardedTarget target = default)
    {
        switch (result.Error)
        {
            case VerifyError.KeySourceUnavailable:
                Log.KeySourceUnavailable(state.Logger, result.Kid);
                break;
            case VerifyError.PathNotAllowed when state.Logger.IsEnabled(LogLevel.Debug):
                // The target may carry the token in its query: only the masked form is logged.
                Log.PathRefused(state.Logger, target.Raw is null ? "(none)" : RequestPath.Mask(target.Raw, state.Pipeline.Policy.QueryParameter), target.Ambiguous);
                break;
            default:
                Log.TokenRefused(state.Logger, result.Error.Code(), result.Kid);
                break;
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
