namespace EdgeVerifier.Policy;

/// <summary>
/// Access policy applied after a token is verified (DESIGN.md steps 1 and 7): required scopes,
/// a path-scope claim, public paths and the opt-in query parameter. Bound from the
/// <c>Policy</c> section. Everything is off by default.
/// </summary>
public sealed class PolicyOptions
{
    /// <summary>Scopes every token must hold (in <c>scope</c>, space-separated, or <c>scp</c>), else 403 <c>insufficient_scope</c>. At most 32. Default none.</summary>
    public string[] RequiredScopes { get; set; } = [];

    /// <summary>
    /// A claim (e.g. <c>path</c>) that limits a token to a URL path prefix, checked against
    /// <c>X-Forwarded-Uri</c> / <c>X-Original-URI</c> after normalisation, else 403
    /// <c>path_not_allowed</c>. Tokens without the claim are not limited. Default none.
    /// </summary>
    public string? PathScopeClaim { get; set; }

    /// <summary>Path prefixes (e.g. <c>/public/</c>) answered 200 without a token, matched on the normalised forwarded path. Default none.</summary>
    public string[] PublicPaths { get; set; } = [];

    /// <summary>
    /// Opt-in: also take the token from this query parameter of the forwarded URI (or of the
    /// <c>/verify</c> request itself), for players that cannot set headers. Its value is masked in
    /// logs. Default none (off).
    /// </summary>
    public string? QueryParameter { get; set; }
}
