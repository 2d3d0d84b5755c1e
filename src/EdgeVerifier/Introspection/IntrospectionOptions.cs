using System.ComponentModel.DataAnnotations;

namespace EdgeVerifier.Introspection;

/// <summary>
/// Opaque tokens (DESIGN.md step 2 and "Opaque tokens"): which prefixes go to which RFC 7662
/// introspection endpoint, how answers are cached, and the HTTP resilience of those calls.
/// Bound from the <c>Introspection</c> section, e.g. <c>EDGEVERIFIER_INTROSPECTION__CACHETTLSECONDS</c>.
/// </summary>
public sealed class IntrospectionOptions
{
    /// <summary>One entry per token prefix. Default none: every token that is not a JWT is refused (401).</summary>
    public IntrospectionEndpointOptions[] Endpoints { get; set; } = [];

    /// <summary>
    /// How long an <c>active:true</c> answer is reused, in seconds; never past the token's <c>exp</c>.
    /// 0 turns the cache off. Default 60.
    /// </summary>
    [Range(0, 86400)]
    public int CacheTtlSeconds { get; set; } = 60;

    /// <summary>Most answers held at once; beyond it new answers are not cached until expired ones are swept. Default 100000.</summary>
    [Range(1, 10_000_000)]
    public int CacheMaxEntries { get; set; } = 100_000;

    /// <summary>Known subjects: when this or <see cref="SubjectsFile"/> is set, an active token whose <c>sub</c> is in neither is refused (401 <c>unknown_subject</c>). Default none.</summary>
    public string[] Subjects { get; set; } = [];

    /// <summary>A file of known subjects, one per line (blank lines and <c>#</c> comments ignored), read at start-up. Default none.</summary>
    public string? SubjectsFile { get; set; }

    /// <summary>Timeout of one introspection attempt, in milliseconds. Default 1000.</summary>
    [Range(50, 60000)]
    public int AttemptTimeoutMs { get; set; } = 1000;

    /// <summary>Timeout of one introspection including retries, in milliseconds. Default 2500.</summary>
    [Range(100, 120000)]
    public int TotalTimeoutMs { get; set; } = 2500;

    /// <summary>Retries of a transient failure (5xx, 408, 429, network), jittered exponential backoff. Default 1.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 1;

    /// <summary>First retry delay in milliseconds. Default 100.</summary>
    [Range(1, 60000)]
    public int RetryDelayMs { get; set; } = 100;

    /// <summary>Circuit breaker: failure ratio within the sampling window that opens it. Default 0.5.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Circuit breaker: attempts needed in the window before it may open. Default 10.</summary>
    [Range(2, 10000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>Circuit breaker: sampling window in seconds. Default 30.</summary>
    [Range(1, 3600)]
    public int BreakerSamplingSeconds { get; set; } = 30;

    /// <summary>Circuit breaker: how long it stays open before a probe, in seconds. Default 5.</summary>
    [Range(1, 3600)]
    public int BreakerBreakSeconds { get; set; } = 5;

    /// <summary>Allow plain <c>http://</c> endpoints on hosts other than loopback (client secrets then travel in clear). Default false.</summary>
    public bool AllowHttp { get; set; }
}

/// <summary>One introspection endpoint and the token prefix that selects it.</summary>
public sealed class IntrospectionEndpointOptions
{
    /// <summary>Tokens starting with this go here (longest prefix wins), e.g. <c>evt_</c>. 1–64 of <c>[A-Za-z0-9._~+/-]</c>; never a prefix of <c>eyJ</c> (every JWT).</summary>
    public string? Prefix { get; set; }

    /// <summary>The RFC 7662 endpoint, https (http only to loopback unless <see cref="IntrospectionOptions.AllowHttp"/>).</summary>
    public string? Url { get; set; }

    /// <summary>Client id for <c>client_secret_basic</c> (with <see cref="ClientSecret"/>).</summary>
    public string? ClientId { get; set; }

    /// <summary>Client secret for <c>client_secret_basic</c>; prefer the environment (<c>EDGEVERIFIER_INTROSPECTION__ENDPOINTS__0__CLIENTSECRET</c>).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Instead of a client id and secret: a bearer token sent as <c>Authorization: Bearer</c>.</summary>
    public string? BearerToken { get; set; }

    /// <summary>PEM file of CA certificates; when set, only these anchor the endpoint's certificate.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of the client certificate (when not inside <see cref="ClientCertificateFile"/>).</summary>
    public string? ClientKeyFile { get; set; }
}
