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

    /// <summary>Required scopes are tracked in a bit mask too.</summary>
    public const int MaxRequiredScopes = 32;

    public ClaimsPolicy(
        IReadOnlyList<string> issuers,
        IReadOnlyList<string> audiences,
        TimeSpan clockSkew,
        bool requireExpiration = true,
        IReadOnlyList<string>? requiredClaims = null,
        IReadOnlyDictionary<string, string>? claimHeaders = null,
        IReadOnlyList<string>? requiredScopes = null,
        string? pathScopeClaim = null,
        bool readJti = false)
    {
        if ((requiredClaims?.Count ?? 0) > MaxRequiredClaims)
        {
            throw new ArgumentException($"at most {MaxRequiredClaims} required claims", nameof(requiredClaims));
        }

        if ((requiredScopes?.Count ?? 0) > MaxRequiredScopes)
        {
            throw new ArgumentException($"at most {MaxRequiredScopes} required scopes", nameof(requiredScopes));
        }

        Scopes = Encode(requiredScopes ?? []);
        ScopeNames = [.. requiredScopes ?? []];
        PathScopeClaim = pathScopeClaim is null ? null : Encoding.UTF8.GetBytes(pathScopeClaim);
        PathScopeClaimName = pathScopeClaim;
        ReadJti = readJti;

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


    public bool RequireExpiration { get; }

    public byte[][] RequiredClaims { get; }

    public string[] RequiredClaimNames { get; }

    /// <summary>Claim names copied into response headers, parallel to <see cref="HeaderNames"/>.</summary>
    public byte[][] HeaderClaims { get; }

    public string[] HeaderNames { get; }

    /// <summary>
    /// Scopes a token must hold (DESIGN.md step 7), matched in <c>scope</c> (space-separated) and
    /// <c>scp</c> (array or space-separated); the reader reports which were found as a bit mask.
    /// Empty: scope claims are not read.
    /// </summary>
    public byte[][] Scopes { get; }

    public string[] ScopeNames { get; }

    /// <summary>Bit mask with one bit per required scope: what a token must present.</summary>
    public uint AllScopes => Scopes.Length == 32 ? uint.MaxValue : (1u << Scopes.Length) - 1;

    /// <summary>The claim that limits a token to a URL path prefix, or null (not read).</summary>
    public byte[]? PathScopeClaim { get; }

    public string? PathScopeClaimName { get; }

    /// <summary>Keep <c>jti</c> in the result (for the revocation list); off, it is not copied.</summary>
    public bool ReadJti { get; }

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
