using System.ComponentModel.DataAnnotations;

namespace EdgeVerifier.Replay;

/// <summary>DPoP (RFC 9449) settings. Bound from the <c>Dpop</c> section, e.g. <c>EDGEVERIFIER_DPOP__MAXAGESECONDS</c>.</summary>
public sealed class DpopOptions
{
    /// <summary>Accept <c>Authorization: DPoP</c> with proofs. Default true. DPoP-bound tokens are refused as bearer tokens either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How old a proof's <c>iat</c> may be, in seconds; its jti is remembered that long. Default 60.</summary>
    [Range(1, 3600)]
    public int MaxAgeSeconds { get; set; } = 60;

    /// <summary>How far in the future a proof's <c>iat</c> may be, in seconds. Default 5.</summary>
    [Range(0, 300)]
    public int FutureSkewSeconds { get; set; } = 5;

    /// <summary>Warn (log and metric) when a client's clock is off by more than this many seconds. Default 0: two thirds of <see cref="MaxAgeSeconds"/>.</summary>
    [Range(0, 3600)]
    public int SkewWarningSeconds { get; set; }
}

/// <summary>The persisted nonce ring. Bound from the <c>Replay</c> section.</summary>
public sealed class ReplayOptions
{
    /// <summary>The ring file (memory-mapped). Default <c>edgeverifier.ring</c> in the working directory; the container uses <c>/var/lib/edgeverifier</c>.</summary>
    [Required]
    public string Path { get; set; } = "edgeverifier.ring";

    /// <summary>Slots, a power of two (8 bytes each). Default 1,048,576 (8 MiB): keep live nonces under half of it.</summary>
    [Range(1024, 1 << 28)]
    public int Capacity { get; set; } = 1 << 20;

    /// <summary>How often dirty pages are written to disk (a process crash loses nothing either way). Default 1 s.</summary>
    [Range(1, 3600)]
    public int FlushIntervalSeconds { get; set; } = 1;
}
