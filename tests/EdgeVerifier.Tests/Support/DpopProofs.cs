using System.Globalization;
using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A DPoP proof (RFC 9449 §4.2) to be signed, every part overridable so each rule can be broken
/// alone: <c>{"typ":"dpop+jwt","alg":…,"jwk":…}</c> . <c>{"jti","htm","htu","iat","ath"}</c>.
/// </summary>
public sealed record DpopProof
{
    private static int _sequence;

    /// <summary>The key that signs the proof (and whose public half is embedded, unless <see cref="JwkJson"/> says otherwise).</summary>
    public required SigningKey Key { get; init; }

    public required string Htm { get; init; }

    public required string Htu { get; init; }

    /// <summary>Unix seconds, written as a JSON number (fractions kept).</summary>
    public required double Iat { get; init; }

    /// <summary>The access token the proof accompanies: <c>ath</c> is its hash unless <see cref="Ath"/> is set.</summary>
    public required string AccessToken { get; init; }

    /// <summary>A fresh value per proof unless set; null leaves the member out.</summary>
    public string? Jti { get; init; } = "jti-" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);

    public string? Typ { get; init; } = "dpop+jwt";

    /// <summary>The header alg; the key's own algorithm unless set.</summary>
    public string? Alg { get; init; }

    /// <summary>The embedded JWK as raw JSON; the public half of <see cref="Key"/> unless set; "" leaves it out.</summary>
    public string? JwkJson { get; init; }

    /// <summary>The <c>ath</c> value; the access token's hash unless set; "" leaves it out.</summary>
    public string? Ath { get; init; }

    /// <summary>Raw JSON members appended to the header / payload.</summary>
    public string? ExtraHeader { get; init; }

    public string? ExtraPayload { get; init; }

    public string HeaderJson
    {
        get
        {
            var members = new List<string>();
            if (Typ is not null)
            {
                members.Add($"\"typ\":{Quote(Typ)}");
            }

            members.Add($"\"alg\":{Quote(Alg ?? Key.Algorithm.Name())}");
            var jwk = JwkJson ?? TestKeys.PublicJson(Key);
            if (jwk.Length > 0)
            {
                members.Add($"\"jwk\":{jwk}");
            }

            if (ExtraHeader is not null)
            {
                members.Add(ExtraHeader);
            }

            return "{" + string.Join(",", members) + "}";
        }
    }

    public string PayloadJson
    {
        get
        {
            var members = new List<string>();
            if (Jti is not null)
            {
                members.Add($"\"jti\":{Quote(Jti)}");
            }

            members.Add($"\"htm\":{Quote(Htm)}");
            members.Add($"\"htu\":{Quote(Htu)}");
            members.Add("\"iat\":" + Iat.ToString("R", CultureInfo.InvariantCulture));
            var ath = Ath ?? DpopProofVerifier.AccessTokenHash(AccessToken);
            if (ath.Length > 0)
            {
                members.Add($"\"ath\":{Quote(ath)}");
            }

            if (ExtraPayload is not null)
            {
                members.Add(ExtraPayload);
            }

            return "{" + string.Join(",", members) + "}";
        }
    }

    /// <summary>The compact JWS, signed with <see cref="Key"/>.</summary>
    public string Sign() => TestTokens.SignRaw(Key, HeaderJson, PayloadJson);

    /// <summary>A JSON string with only quote and backslash escaped: JsonSerializer would write '+' as \u002B.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>Keys and DPoP-bound access tokens for the proof tests.</summary>
public static class DpopTokens
{
    /// <summary>The client's proof key (P-256), not the issuer's; one per test run.</summary>
    public static SigningKey ClientKey { get; } = TestKeys.Fresh(SigningAlgorithm.ES256, "dpop-client");

    /// <summary>Another client's key: a proof signed with it does not match a token bound to <see cref="ClientKey"/>.</summary>
    public static SigningKey OtherClientKey { get; } = TestKeys.Fresh(SigningAlgorithm.ES256, "other-client");

    public static string Thumbprint(SigningKey key) => DpopProofVerifier.Thumbprint(key.PublicJwk);

    /// <summary>An access token (signed by the issuer's ES256 key) bound to <paramref name="proofKey"/> by <c>cnf.jkt</c>.</summary>
    public static string Bound(DateTimeOffset now, SigningKey? proofKey = null, string? extra = null, TimeSpan? lifetime = null)
    {
        var cnf = $"\"cnf\":{{\"jkt\":\"{Thumbprint(proofKey ?? ClientKey)}\"}}";
        return TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(now, lifetime, extra: extra is null ? cnf : cnf + "," + extra));
    }

    /// <summary>A valid proof for <paramref name="method"/> <paramref name="url"/> at <paramref name="now"/>, by <see cref="ClientKey"/> unless given.</summary>
    public static DpopProof Proof(string accessToken, string method, string url, DateTimeOffset now, SigningKey? key = null) => new()
    {
        Key = key ?? ClientKey,
        AccessToken = accessToken,
        Htm = method,
        Htu = url,
        Iat = now.ToUnixTimeSeconds(),
    };
}
