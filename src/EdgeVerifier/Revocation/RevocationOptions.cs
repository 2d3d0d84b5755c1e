using System.ComponentModel.DataAnnotations;

namespace EdgeVerifier.Revocation;

/// <summary>
/// The revocation list (DESIGN.md step 8): <c>{"jti":[…],"sub":[…]}</c> from a URL or a file,
/// refreshed in the background, and what happens when it is too old. Bound from the
/// <c>Revocation</c> section. Off unless <see cref="Url"/> or <see cref="Path"/> is set.
/// HTTP fetches use the <c>Remote</c> timeouts, retries, breaker and <c>AllowHttp</c>.
/// </summary>
public sealed class RevocationOptions
{
    public const string FailClosed = "fail-closed";
    public const string FailOpen = "fail-open";

    /// <summary>Where the list is fetched (sent <c>If-None-Match</c>; a 304 renews it). Not with <see cref="Path"/>.</summary>
    public string? Url { get; set; }

    /// <summary>A local file holding the list, re-read every <see cref="RefreshSeconds"/>. Not with <see cref="Url"/>.</summary>
    public string? Path { get; set; }

    /// <summary>How often the list is refreshed, in seconds. Default 30.</summary>
    [Range(1, 86400)]
    public int RefreshSeconds { get; set; } = 30;

    /// <summary>
    /// A list not refreshed successfully for longer than this (seconds) is stale, and so is a list
    /// never loaded; <see cref="StalePolicy"/> decides. Must exceed <see cref="RefreshSeconds"/>. Default 300.
    /// </summary>
    [Range(2, 2592000)]
    public int MaxAgeSeconds { get; set; } = 300;

    /// <summary>
    /// <c>fail-closed</c> (default): while the list is stale every token is refused with 503
    /// <c>revocation_list_stale</c>. <c>fail-open</c>: tokens are served against the last list
    /// (or none), with a warning and the <c>edgeverifier.revocation.stale_served</c> metric.
    /// </summary>
    public string StalePolicy { get; set; } = FailClosed;

    /// <summary>PEM file of CA certificates for <see cref="Url"/>; when set, only these anchor its certificate.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS to <see cref="Url"/>.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of the client certificate.</summary>
    public string? ClientKeyFile { get; set; }
}
