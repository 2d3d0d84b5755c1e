using System.ComponentModel.DataAnnotations;
using EdgeVerifier.Introspection;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Replay;
using EdgeVerifier.Policy;
using EdgeVerifier.Revocation;
using Microsoft.Extensions.Options;

namespace EdgeVerifier.Configuration;

/// <summary>
/// Every setting of <c>edgeverifier serve</c>. Sources, lowest to highest precedence:
/// defaults &lt; <c>edgeverifier.json</c> &lt; <c>EDGEVERIFIER_</c> environment variables
/// (<c>__</c> for nesting, e.g. <c>EDGEVERIFIER_ISSUERS__0</c>) &lt; command-line flags.
/// </summary>
public sealed class VerifierOptions
{
    /// <summary>
    /// Where keys come from: a JWK / JWK Set file, a directory of <c>{kid}.jwk</c> files, a base
    /// URL (<c>https://…/</c> → <c>{base}/{kid}.jwk</c>), <c>jwks:https://…</c> or <c>oidc:https://issuer</c>.
    /// This or <see cref="KeySources"/> is required; a path that does not exist stops start-up.
    /// </summary>
    public string? Keys { get; set; }

    /// <summary>More key sources, each with its own TLS settings; asked after <see cref="Keys"/>, in order.</summary>
    public KeySourceOptions[] KeySources { get; set; } = [];

    /// <summary>Caching, fail-safe and resilience of the remote sources.</summary>
    [ValidateObjectMembers]
    public RemoteKeyOptions Remote { get; set; } = new();

    /// <summary>Opaque tokens: prefixes, RFC 7662 endpoints, the answer cache, known subjects.</summary>
    [ValidateObjectMembers]
    public IntrospectionOptions Introspection { get; set; } = new();

    /// <summary>The revocation list (by <c>jti</c> and <c>sub</c>) and its stale policy. Off by default.</summary>
    [ValidateObjectMembers]
    public RevocationOptions Revocation { get; set; } = new();

    /// <summary>Required scopes, path scope, public paths, query-parameter tokens. Off by default.</summary>
    public PolicyOptions Policy { get; set; } = new();

    /// <summary>Accepted <c>iss</c> values (exact, case-sensitive). Required unless <see cref="AnyIssuer"/>.</summary>
    public string[] Issuers { get; set; } = [];

    /// <summary>Accepted <c>aud</c> values. Required unless <see cref="AnyAudience"/>.</summary>
    public string[] Audiences { get; set; } = [];

    /// <summary>Accept any issuer. Default false: an unconfigured issuer check fails closed.</summary>
    public bool AnyIssuer { get; set; }

    /// <summary>Accept any audience. Default false.</summary>
    public bool AnyAudience { get; set; }

    /// <summary>Tolerance for <c>exp</c>, <c>nbf</c> and <c>iat</c>, in seconds. Default 60.</summary>
    [Range(0, 3600, ErrorMessage = "must be between 0 and 3600 seconds")]
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>Refuse tokens without <c>exp</c>. Default true.</summary>
    public bool RequireExpiration { get; set; } = true;

    /// <summary>Claims that must be present (at most 32). Default none.</summary>
    public string[] RequiredClaims { get; set; } = [];

    /// <summary>Allowed <c>alg</c> values. Default (empty): every implemented algorithm.</summary>
    public string[] Algorithms { get; set; } = [];

    /// <summary>Accepted header <c>typ</c> values when present. Default (empty): <c>JWT</c>, <c>at+jwt</c>.</summary>
    public string[] TokenTypes { get; set; } = [];

    /// <summary>Largest accepted credential in characters. Default 8192.</summary>
    [Range(256, 65536, ErrorMessage = "must be between 256 and 65536")]
    public int MaxTokenBytes { get; set; } = 8192;

    /// <summary>Extra claims copied into response headers: claim name → header name.</summary>
    public Dictionary<string, string> ClaimHeaders { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a cached key file answer is trusted before it is re-read, in seconds. Default 5.</summary>
    [Range(1, 86400, ErrorMessage = "must be between 1 and 86400 seconds")]
    public int KeyRecheckSeconds { get; set; } = 5;

    /// <summary>Smallest RSA modulus accepted, in bits. Default 2048.</summary>
    [Range(1024, 16384, ErrorMessage = "must be between 1024 and 16384")]
    public int MinRsaKeyBits { get; set; } = 2048;

    /// <summary><c>Retry-After</c> on 503 answers, in seconds. Default 5.</summary>
    [Range(1, 3600, ErrorMessage = "must be between 1 and 3600 seconds")]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>How many verified tokens to remember by exact text (0: none). Default 10,000 (about 1–2 KB each).</summary>
    [Range(0, 10_000_000)]
    public int TokenCacheEntries { get; set; } = 10_000;

    /// <summary>
    /// How many refused tokens to remember by exact text (0: none): only refusals the token and its key
    /// alone decide (bad signature, wrong iss/aud, expired, ...), by SHA-256 of the text. Default 10,000 (~200 B each).
    /// </summary>
    [Range(0, 10_000_000)]
    public int RefusedTokenCacheEntries { get; set; } = 10_000;

    /// <summary>DPoP proof checking (RFC 9449).</summary>
    [ValidateObjectMembers]
    public DpopOptions Dpop { get; set; } = new();

    /// <summary>The persisted nonce ring behind DPoP and one-time tokens.</summary>
    [ValidateObjectMembers]
    public ReplayOptions Replay { get; set; } = new();

    /// <summary>
    /// Make every token's <c>jti</c> single-use (a second use is refused as <c>replayed</c>). Such
    /// tokens also need an <c>iat</c> (else <c>missing_claim</c>), and ones issued before the replay
    /// ring was created are refused, since the ring cannot know whether they were used. Default false.
    /// </summary>
    public bool OneTimeTokens { get; set; }

    /// <summary>Where to listen (semicolon-separated URLs). Default <c>http://127.0.0.1:8080</c>.</summary>
    [Required(ErrorMessage = "is required")]
    public string Urls { get; set; } = "http://127.0.0.1:8080";
}
