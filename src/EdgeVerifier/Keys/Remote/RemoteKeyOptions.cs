using System.ComponentModel.DataAnnotations;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// How remote key sources (base URL, JWKS, OIDC discovery) are cached and fetched.
/// Bound from the <c>Remote</c> section, e.g. <c>EDGEVERIFIER_REMOTE__MAXSTALESECONDS</c>.
/// </summary>
public sealed class RemoteKeyOptions
{
    /// <summary>Freshness when the registry sends no <c>max-age</c>, in seconds. Default 300.</summary>
    [Range(1, 86400)]
    public int DefaultTtlSeconds { get; set; } = 300;

    /// <summary>Lower clamp on what the registry's caching headers say (also the life of a <c>no-store</c> answer). Default 60.</summary>
    [Range(0, 86400)]
    public int MinTtlSeconds { get; set; } = 60;

    /// <summary>Upper clamp on the registry's <c>max-age</c>: a key dropped upstream is refused within this. Default 3600.</summary>
    [Range(1, 604800)]
    public int MaxTtlSeconds { get; set; } = 3600;

    /// <summary>How long a key keeps serving past its freshness while the registry fails (fail-safe). Default 86400 (24 h).</summary>
    [Range(0, 2592000)]
    public int MaxStaleSeconds { get; set; } = 86400;

    /// <summary>Refresh in the background once this fraction of the freshness has passed. Default 0.9.</summary>
    [Range(0.5, 0.99)]
    public double EagerRefreshThreshold { get; set; } = 0.9;

    /// <summary>After a failed refresh, no new attempt for this long (the stale key keeps serving). Default 10.</summary>
    [Range(1, 3600)]
    public int FailureCooldownSeconds { get; set; } = 10;

    /// <summary>How long "no such kid" from a base-URL source (404) is remembered. Default 60.</summary>
    [Range(1, 86400)]
    public int NegativeTtlSeconds { get; set; } = 60;

    /// <summary>A JWKS is re-fetched for an unknown kid at most once per this many seconds. Default 30.</summary>
    [Range(1, 86400)]
    public int UnknownKidCooldownSeconds { get; set; } = 30;

    /// <summary>Base-URL sources: fetches for kids never seen before, per minute (token bucket, burst the same). Default 60.</summary>
    [Range(1, 100000)]
    public int UnknownKidFetchesPerMinute { get; set; } = 60;

    /// <summary>Timeout of one HTTP attempt, in milliseconds. Default 2000.</summary>
    [Range(100, 60000)]
    public int AttemptTimeoutMs { get; set; } = 2000;

    /// <summary>Timeout of a whole fetch including retries, in milliseconds. Default 5000.</summary>
    [Range(200, 120000)]
    public int TotalTimeoutMs { get; set; } = 5000;

    /// <summary>Retries of a transient failure (5xx, 408, 429, network), jittered exponential backoff. Default 2.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay in milliseconds (then exponential, with jitter). Default 200.</summary>
    [Range(1, 60000)]
    public int RetryDelayMs { get; set; } = 200;

    /// <summary>Circuit breaker: failure ratio within the sampling window that opens it. Default 0.5.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Circuit breaker: attempts needed in the window before it may open. Default 5.</summary>
    [Range(2, 10000)]
    public int BreakerMinimumThroughput { get; set; } = 5;

    /// <summary>Circuit breaker: sampling window in seconds (at least twice the attempt timeout). Default 30.</summary>
    [Range(1, 3600)]
    public int BreakerSamplingSeconds { get; set; } = 30;

    /// <summary>Circuit breaker: how long it stays open before a probe. Default 15.</summary>
    [Range(1, 3600)]
    public int BreakerBreakSeconds { get; set; } = 15;

    /// <summary>Allow plain <c>http://</c> key URLs to hosts other than loopback. Default false.</summary>
    public bool AllowHttp { get; set; }
}

/// <summary>One remote (or local) key source with its own TLS settings.</summary>
public sealed class KeySourceOptions
{
    /// <summary>A path, a base URL (<c>https://…/</c> → <c>{base}/{kid}.jwk</c>), <c>jwks:https://…</c> or <c>oidc:https://issuer</c>.</summary>
    public string? Keys { get; set; }

    /// <summary>PEM file of CA certificates; when set, only these anchor the registry's certificate (the public trust store is not used).</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of the client certificate (when not inside <see cref="ClientCertificateFile"/>).</summary>
    public string? ClientKeyFile { get; set; }
}
