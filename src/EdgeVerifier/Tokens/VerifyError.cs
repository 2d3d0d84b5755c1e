namespace EdgeVerifier.Tokens;

/// <summary>
/// Why a credential was refused. Every value maps to a stable machine code (see
/// <see cref="VerifyErrors"/>) that clients and dashboards may depend on.
/// </summary>
public enum VerifyError : byte
{
    None = 0,
    MissingToken,
    MultipleTokens,
    MalformedToken,
    TokenTooLarge,
    UnsupportedAlg,
    UnsupportedCrit,
    InvalidTyp,
    MissingKid,
    InvalidKid,
    UnknownKid,
    KeyAlgMismatch,
    BadSignature,
    Expired,
    NotYetValid,
    BadIssuer,
    BadAudience,
    MissingClaim,
    KeySourceUnavailable,
    InternalError,
    DpopInvalid,
    DpopRequired,
    Replayed,
    ReplayStoreFull,
    InsufficientScope,
    PathNotAllowed,
    InactiveToken,
    IntrospectionUnavailable,
    Revoked,
    RevocationListStale,
    UnknownSubject,
}

/// <summary>Stable codes, HTTP statuses and human messages for <see cref="VerifyError"/>.</summary>
public static class VerifyErrors
{
    private static readonly string[] Codes =
    [
        "none",
        "missing_token",
        "multiple_tokens",
        "malformed_token",
        "token_too_large",
        "unsupported_alg",
        "unsupported_crit",
        "invalid_typ",
        "missing_kid",
        "invalid_kid",
        "unknown_kid",
        "key_alg_mismatch",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "bad_issuer",
        "bad_audience",
        "missing_claim",
        "key_source_unavailable",
        "internal_error",
        "dpop_invalid",
        "dpop_required",
        "replayed",
        "replay_store_full",
        "insufficient_scope",
        "path_not_allowed",
        "inactive_token",
        "introspection_unavailable",
        "revoked",
        "revocation_list_stale",
        "unknown_subject",
    ];

    private static readonly string[] Messages =
    [
        "",
        "no bearer token in the request",
        "more than one credential in the request",
        "the token is not a well-formed compact JWS",
        "the token is larger than the configured limit",
        "the token's alg is not allowed",
        "the token names a critical header extension this verifier does not understand",
        "the token's typ is not an accepted access-token type",
        "the token has no kid and the key source needs one",
        "the token's kid is not of the form [A-Za-z0-9_-]{1,128}",
        "no key with the token's kid is known",
        "the token's alg does not agree with its key",
        "the token's signature does not verify",
        "the token has expired",
        "the token is not yet valid",
        "the token's issuer is not accepted",
        "the token's audience is not accepted",
        "the token lacks a required claim",
        "the key source cannot answer right now",
        "the verifier hit an unexpected error; retry later",
        "the DPoP proof is invalid",
        "the token is DPoP-bound: present it with Authorization: DPoP and a DPoP proof",
        "the token was already used",
        "the replay store is full; retry later",
        "the token lacks a required scope",
        "the token's path scope does not cover the requested path",
        "the introspection endpoint reports the token inactive",
        "the introspection endpoint cannot answer right now",
        "the token has been revoked",
        "the revocation list is too old to be trusted; retry later",
        "the token's subject is not a known subject",
    ];

    static VerifyErrors()
    {
        System.Diagnostics.Debug.Assert(Codes.Length == Messages.Length);
    }

    /// <summary>Number of distinct values, for per-code tables.</summary>
    public static int Count => Codes.Length;

    /// <summary>The stable machine code, e.g. <c>bad_signature</c>.</summary>
    public static string Code(this VerifyError error) => Codes[(int)error];

    /// <summary>A short human explanation, safe to show to clients (no token data).</summary>
    public static string Message(this VerifyError error) => Messages[(int)error];

    /// <summary>The HTTP status a forward-auth proxy should see.</summary>
    public static int HttpStatus(this VerifyError error) => error switch
    {
        VerifyError.None => 200,
        VerifyError.KeySourceUnavailable or VerifyError.InternalError or VerifyError.ReplayStoreFull
            or VerifyError.IntrospectionUnavailable or VerifyError.RevocationListStale => 503,
        VerifyError.InsufficientScope or VerifyError.PathNotAllowed => 403,
        _ => 401,
    };

    /// <summary>Looks a code up by its stable name (used by the CLI and tests).</summary>
    public static bool TryParse(string code, out VerifyError error)
    {
        for (var i = 0; i < Codes.Length; i++)
        {
            if (string.Equals(Codes[i], code, StringComparison.Ordinal))
            {
                error = (VerifyError)i;
                return true;
            }
        }

        error = VerifyError.None;
        return false;
    }
}
