using System.Text;

namespace EdgeVerifier.Tokens;

/// <summary>
/// An immutable snapshot of the claim rules (DESIGN.md step 7), pre-encoded to UTF-8 so the
/// hot path compares bytes.
/// </summary>
public sealed class ClaimsPolicy
{
    /// <summary>Required claims are tracked in a bit mask.</summary>
    public const int MaxRequiredClaims = 32;

    public ClaimsPolicy(
        IReadOnlyList<string> issuers,
        IReadOnlyList<string> audiences,
        TimeSpan clockSkew,
        bool requireExpiration = true,
        IReadOnlyList<string>? requiredClaims = null,
        IReadOnlyDictionary<string, string>? claimHeaders = null)
    {
        if ((requiredClaims?.Count ?? 0) > MaxRequiredClaims)
        {
            throw new ArgumentException($"at most {MaxRequiredClaims} required claims", nameof(requiredClaims));
        }

        IssuerStrings = [.. issuers];
        Issuers = Encode(issuers);
        Audiences = Encode(audiences);
        ClockSkewSeconds = clockSkew.TotalSeconds;
        RequireExpiration = requireExpiration;
        RequiredClaims = Encode(requiredClaims ?? []);
        RequiredClaimNames = [.. requiredClaims ?? []];
        var headerClaims = new List<byte[]>();
        var headerNames = new List<string>();
        if (claimHeaders is not null)
        {
            foreach (var (claim, header) in claimHeaders)
            {
                headerClaims.Add(Encoding.UTF8.GetBytes(claim));
                headerNames.Add(header);
            }
        }

        HeaderClaims = [.. headerClaims];
        HeaderNames = [.. headerNames];
    }

    /// <summary>Accepted issuers; empty means any issuer (only when explicitly configured so).</summary>
    public byte[][] Issuers { get; }

    /// <summary>The same issuers as strings, so a match reuses the configured instance.</summary>
    public string[] IssuerStrings { get; }

    /// <summary>Accepted audiences; empty means any audience (only when explicitly configured so).</summary>
    public byte[][] Audiences { get; }

    public double ClockSkewSeconds { get; }

    /// <summary>Keep the token's <c>jti</c> (one-time tokens need it); otherwise it is not copied out, which saves an allocation per token.</summary>
    public bool CaptureJti { get; init; }

    public bool RequireExpiration { get; }

    public byte[][] RequiredClaims { get; }

    public string[] RequiredClaimNames { get; }

    /// <summary>Claim names copied into response headers, parallel to <see cref="HeaderNames"/>.</summary>
    public byte[][] HeaderClaims { get; }

    public string[] HeaderNames { get; }

    private static byte[][] Encode(IReadOnlyList<string> values)
    {
        var result = new byte[values.Count][];
        for (var i = 0; i < values.Count; i++)
        {
            result[i] = Encoding.UTF8.GetBytes(values[i]);
        }

        return result;
    }
}
