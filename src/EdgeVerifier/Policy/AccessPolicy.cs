using EdgeVerifier.Tokens;

namespace EdgeVerifier.Policy;

/// <summary>
/// The request target the proxy forwarded (<c>X-Forwarded-Uri</c> from Traefik and Caddy,
/// <c>X-Original-URI</c> from the nginx set-up), and its normalised path. Two different values,
/// or one header given twice, make it ambiguous: no path is derived (not public, and a
/// path-scoped token is refused).
/// </summary>
public readonly struct ForwardedTarget
{
    public const string ForwardedUriHeader = "X-Forwarded-Uri";
    public const string OriginalUriHeader = "X-Original-URI";

    private ForwardedTarget(string? raw, string? path, bool ambiguous)
    {
        Raw = raw;
        Path = path;
        Ambiguous = ambiguous;
    }

    /// <summary>The header value as sent (may hold a query with a token: mask it before logging).</summary>
    public string? Raw { get; }

    /// <summary>The canonical path (<see cref="RequestPath.Normalise"/>), or null when absent, unsafe or ambiguous.</summary>
    public string? Path { get; }

    public bool Ambiguous { get; }

    public static ForwardedTarget From(IHeaderDictionary headers)
    {
        var forwarded = headers[ForwardedUriHeader];
        var original = headers[OriginalUriHeader];
        if (forwarded.Count > 1 || original.Count > 1)
        {
            return new(null, null, ambiguous: true);
        }

        string? raw = forwarded.Count == 1 ? forwarded[0] : null;
        if (original.Count == 1)
        {
            if (raw is not null && !string.Equals(raw, original[0], StringComparison.Ordinal))
            {
                return new(null, null, ambiguous: true);
            }

            raw = original[0];
        }

        return FromRaw(raw);
    }

    public static ForwardedTarget FromRaw(string? raw) =>
        new(raw, raw is null ? null : RequestPath.Normalise(raw), ambiguous: false);
}

/// <summary>
/// The access rules applied to a verified token (DESIGN.md step 7): required scopes, the path
/// scope, public paths and where a query-parameter token is read. Built once from options.
/// </summary>
public sealed class AccessPolicy
{
    public static readonly AccessPolicy None = new(new PolicyOptions(), null);

    public AccessPolicy(PolicyOptions options, ClaimsPolicy? claims)
    {
        RequiredScopes = options.RequiredScopes.Length == 0 || claims is null ? 0 : claims.AllScopes;
        ScopeText = options.RequiredScopes.Length == 0 ? null : string.Join(' ', options.RequiredScopes);
        PathScopeEnabled = !string.IsNullOrEmpty(options.PathScopeClaim);
        PublicPaths = [.. options.PublicPaths];
        QueryParameter = string.IsNullOrEmpty(options.QueryParameter) ? null : options.QueryParameter;
        NeedsTarget = PublicPaths.Length > 0 || PathScopeEnabled || QueryParameter is not null;
    }

    /// <summary>Bit mask of the scopes a token must hold (see <see cref="ClaimsPolicy.Scopes"/>); 0 = none required.</summary>
    public uint RequiredScopes { get; }

    /// <summary>The required scopes, space-separated (the 403 challenge's <c>scope</c>), or null.</summary>
    public string? ScopeText { get; }

    public bool PathScopeEnabled { get; }

    /// <summary>Canonical path prefixes that need no token.</summary>
    public string[] PublicPaths { get; }

    /// <summary>The opt-in query parameter carrying a token, or null.</summary>
    public string? QueryParameter { get; }

    /// <summary>Whether anything here looks at the forwarded request target.</summary>
    public bool NeedsTarget { get; }

    /// <summary>Whether the normalised <paramref name="path"/> lies under a public prefix.</summary>
    public bool IsPublic(string? path)
    {
        if (path is null)
        {
            return false;
        }

        foreach (var prefix in PublicPaths)
        {
            if (RequestPath.IsUnder(path, prefix))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Scopes, then the path scope. <see cref="VerifyError.None"/> when the token may pass.</summary>
    public VerifyError Authorize(VerifiedToken token, in ForwardedTarget target)
    {
        if ((token.Scopes & RequiredScopes) != RequiredScopes)
        {
            return VerifyError.InsufficientScope;
        }

        if (PathScopeEnabled && token.PathScope is { } scope)
        {
            // The claim is a path like any other: one that is not canonical limits the token to nothing.
            var prefix = RequestPath.Normalise(scope);
            if (prefix is null || target.Path is not { } path || !RequestPath.IsUnder(path, prefix))
            {
                return VerifyError.PathNotAllowed;
            }
        }

        return VerifyError.None;
    }

    /// <summary>
    /// The query-parameter token, when configured and present in <paramref name="query"/> (a target
    /// or a query string starting with <c>?</c>). <see cref="VerifyError.MissingToken"/> when absent.
    /// </summary>
    public VerifyError FromQuery(string? query, int maxLength, out ReadOnlyMemory<char> token)
    {
        token = default;
        if (QueryParameter is null || string.IsNullOrEmpty(query))
        {
            return VerifyError.MissingToken;
        }

        var count = RequestPath.FindQueryValue(query, QueryParameter, out var value);
        if (count == 0)
        {
            return VerifyError.MissingToken;
        }

        if (count > 1)
        {
            return VerifyError.MultipleTokens;
        }

        if (value is null)
        {
            return VerifyError.MalformedToken;
        }

        if (value.Length == 0)
        {
            return VerifyError.MissingToken;
        }

        if (value.Length > maxLength)
        {
            return VerifyError.TokenTooLarge;
        }

        if (value.AsSpan().ContainsAny(' ', '\t', ','))
        {
            return VerifyError.MultipleTokens;
        }

        token = value.AsMemory();
        return VerifyError.None;
    }
}
