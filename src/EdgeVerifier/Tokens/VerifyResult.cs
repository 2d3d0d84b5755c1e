namespace EdgeVerifier.Tokens;

/// <summary>A token that passed every check: what the response reports about it.</summary>
public sealed class VerifiedToken
{
    public string? Subject { get; init; }

    public string? Issuer { get; init; }

    public string? Kid { get; init; }

    public SigningAlgorithm Algorithm { get; init; }


    /// <summary>RFC 9449 <c>cnf.jkt</c>: set when the token is DPoP-bound.</summary>
    public string? ConfirmationThumbprint { get; init; }

    /// <summary>Unix seconds; NaN when the token has no <c>exp</c> and none is required.</summary>
    public double ExpiresAt { get; init; }

    /// <summary>Unix seconds: the later of <c>nbf</c> and <c>iat</c>; NaN when neither is present.</summary>
    public double NotBefore { get; init; } = double.NaN;

    /// <summary>Values for <see cref="ClaimsPolicy.HeaderNames"/>, by index; null when none are configured.</summary>
    public string?[]? HeaderValues { get; init; }

    /// <summary>
    /// The decoded payload JSON, only when asked for (<c>/v1/verify</c>); for an introspected token
    /// the introspection response, always (it is cached with the result).
    /// </summary>
    public byte[]? Payload
    {
        get => _extra?.Payload;
        init
        {
            if (value is not null)
            {
                Extra().Payload = value;
            }
        }
    }

    /// <summary>The token's <c>jti</c> when the revocation list needs it; else null.</summary>
    public string? Jti
    {
        get => _extra?.Jti;
        init
        {
            if (value is not null)
            {
                Extra().Jti = value;
            }
        }
    }

    /// <summary>The path prefix the token is limited to (the configured path-scope claim), or null.</summary>
    public string? PathScope
    {
        get => _extra?.PathScope;
        init
        {
            if (value is not null)
            {
                Extra().PathScope = value;
            }
        }
    }

    /// <summary>Which of the required scopes (<see cref="ClaimsPolicy.ScopeNames"/>) the token holds, one bit each.</summary>
    public uint Scopes { get; init; }

    /// <summary>An opaque token answered by an introspection endpoint (RFC 7662), not a JWT.</summary>
    public bool Introspected { get; init; }

    // The rarely present values live in a second object allocated only when one is set, so the
    // common result (no payload, no revocation list, no path scope) stays as small as before.
    private ExtraValues? _extra;

    private ExtraValues Extra() => _extra ??= new ExtraValues();

    private sealed class ExtraValues
    {
        public byte[]? Payload;
        public string? Jti;
        public string? PathScope;
    }
}

/// <summary>The answer for one credential: an error code, or the verified token.</summary>
public readonly struct VerifyResult
{
    private VerifyResult(VerifyError error, VerifiedToken? token, string? kid)
    {
        Error = error;
        Token = token;
        Kid = kid;
    }

    public VerifyError Error { get; }

    public VerifiedToken? Token { get; }

    /// <summary>The kid the token named, when known (for logs); may be set on failures.</summary>
    public string? Kid { get; }

    public bool IsValid => Error == VerifyError.None;

    public static VerifyResult Fail(VerifyError error, string? kid = null) => new(error, null, kid);

    public static VerifyResult Ok(VerifiedToken token) => new(VerifyError.None, token, token.Kid);

    public static implicit operator VerifyResult(VerifyError error) => new(error, null, null);
}
