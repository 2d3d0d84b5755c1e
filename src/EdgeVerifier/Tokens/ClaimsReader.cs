using System.Text.Json;

namespace EdgeVerifier.Tokens;

/// <summary>What the payload yielded for the response.</summary>
public struct ClaimSet
{
    public string? Subject;

    /// <summary>RFC 9449 §6.1: <c>cnf.jkt</c>, the thumbprint of the key a DPoP-bound token is bound to.</summary>
    public string? Jkt;
    public string? Issuer;
    public double ExpiresAt;

    /// <summary>The later of <c>nbf</c> and <c>iat</c>, or NaN: the token is not valid before it (less the skew).</summary>
    public double NotBefore;
    public string?[]? HeaderValues;

    /// <summary>The token's <c>jti</c>, when the policy asks for it.</summary>
    public string? Jti;

    /// <summary>Which of <see cref="ClaimsPolicy.Scopes"/> the token holds, one bit each.</summary>
    public uint Scopes;

    /// <summary>The path-scope claim's value, when configured and present.</summary>
    public string? PathScope;
}

/// <summary>
/// Validates a decoded JWT payload against a <see cref="ClaimsPolicy"/> in one
/// <see cref="Utf8JsonReader"/> pass. Registered claims appearing twice are refused.
/// </summary>
public static class ClaimsReader
{
    private const int Exp = 1, Nbf = 2, Iat = 4, Iss = 8, Aud = 16, Sub = 32, Jti = 64, Cnf = 128, Scope = 256, Scp = 512, PathScope = 1024;

    /// <summary>Scope strings up to this many UTF-8 bytes are unescaped on the stack.</summary>
    private const int ScopeStackLimit = 1024;

    public static VerifyError Read(ReadOnlySpan<byte> json, ClaimsPolicy policy, double now, out ClaimSet claims)
    {
        claims = default;
        claims.ExpiresAt = double.NaN;
        claims.NotBefore = double.NaN;
        if (!HeaderReader.LooksLikeObject(json))
        {
            return VerifyError.MalformedToken;
        }

        double exp = double.NaN, nbf = double.NaN, iat = double.NaN;
        var issuerIndex = -1;
        var issuerPresent = false;
        var audienceMatched = false;
        var audiencePresent = false;
        var required = 0u;
        var mapped = 0UL;
        var seen = 0;
        var headerClaims = policy.HeaderClaims;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 32 });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return VerifyError.MalformedToken;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var requiredClaims = policy.RequiredClaims;
                for (var i = 0; i < requiredClaims.Length; i++)
                {
                    if (reader.ValueTextEquals(requiredClaims[i]))
                    {
                        if ((required & (1u << i)) != 0)
                        {
                            return VerifyError.MalformedToken; // a required claim given twice
                        }

                        required |= 1u << i;
                    }
                }

                var headerIndex = -1;
                for (var i = 0; i < headerClaims.Length; i++)
                {
                    if (reader.ValueTextEquals(headerClaims[i]))
                    {
                        headerIndex = i;
                        break;
                    }
                }

                if (headerIndex >= 0 && !MarkMapped(ref mapped, headerIndex))
                {
                    // A claim that becomes a header must have one value: proxy and upstream could pick different ones.
                    return VerifyError.MalformedToken;
                }

                var claim = Registered(ref reader);
                if (claim == 0 && policy.PathScopeClaim is { } pathClaim && reader.ValueTextEquals(pathClaim))
                {
                    claim = PathScope;
                }

                if (!reader.Read())
                {
                    return VerifyError.MalformedToken;
                }

                if (headerIndex >= 0)
                {
                    claims.HeaderValues ??= new string?[headerClaims.Length];
                    claims.HeaderValues[headerIndex] = ClaimText(ref reader);
                }

                if (claim != 0 && !Mark(ref seen, claim))
                {
                    return VerifyError.MalformedToken;
                }

                switch (claim)
                {
                    case Exp when !ReadNumericDate(ref reader, out exp):
                    case Nbf when !ReadNumericDate(ref reader, out nbf):
                    case Iat when !ReadNumericDate(ref reader, out iat):
                        return VerifyError.MalformedToken;
                    case Exp or Nbf or Iat:
                        break;
                    case Iss:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return VerifyError.MalformedToken;
                        }

                        issuerPresent = true;
                        issuerIndex = Match(ref reader, policy.Issuers);
                        if (policy.Issuers.Length == 0)
                        {
                            // Any issuer accepted: report the token's own (X-Auth-Issuer), there is no configured instance to reuse.
                            claims.Issuer = reader.GetString();
                        }

                        break;
                    case Aud:
                        // RFC 7519 §4.1.3: a single string or an array of strings.
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            audiencePresent = true;
                            audienceMatched = Match(ref reader, policy.Audiences) >= 0;
                        }
                        else if (reader.TokenType == JsonTokenType.StartArray)
                        {
                            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                            {
                                if (reader.TokenType != JsonTokenType.String)
                                {
                                    return VerifyError.MalformedToken;
                                }

                                audiencePresent = true;
                                audienceMatched |= Match(ref reader, policy.Audiences) >= 0;
                            }
                        }
                        else
                        {
                            return VerifyError.MalformedToken;
                        }

                        break;
                    case Sub:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return VerifyError.MalformedToken;
                        }

                        claims.Subject = reader.GetString();
                        break;
                    case Jti:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return VerifyError.MalformedToken;
                        }

                        if (policy.ReadJti)
                        {
                            claims.Jti = reader.GetString();
                        }

                        break;
                    case Cnf:
                        if (reader.TokenType != JsonTokenType.StartObject || !ReadJkt(ref reader, out claims.Jkt))
                        {
                            return VerifyError.MalformedToken;
                        }

                        break;
                    case Scope or Scp when policy.Scopes.Length > 0:
                        // RFC 9068 §2.2.3: scope is a space-separated string; scp (common in IdPs) an array or a string.
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            claims.Scopes |= MatchScopes(ref reader, policy.Scopes);
                        }
                        else if (claim == Scp && reader.TokenType == JsonTokenType.StartArray)
                        {
                            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                            {
                                if (reader.TokenType != JsonTokenType.String)
                                {
                                    return VerifyError.MalformedToken;
                                }

                                claims.Scopes |= MatchScopes(ref reader, policy.Scopes);
                            }
                        }
                        else
                        {
                            return VerifyError.MalformedToken;
                        }

                        break;
                    case PathScope:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return VerifyError.MalformedToken;
                        }

                        claims.PathScope = reader.GetString();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return VerifyError.MalformedToken;
            }
        }
        catch (JsonException)
        {
            return VerifyError.MalformedToken;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8 inside a string value.
            return VerifyError.MalformedToken;
        }

        var skew = policy.ClockSkewSeconds;

        // RFC 7519 §4.1.4: the current time MUST be before exp.
        if (double.IsNaN(exp))
        {
            if (policy.RequireExpiration)
            {
                return VerifyError.MissingClaim;
            }
        }
        else if (now >= exp + skew)
        {
            return VerifyError.Expired;
        }

        if (!double.IsNaN(nbf) && now + skew < nbf)
        {
            return VerifyError.NotYetValid;
        }

        if (!double.IsNaN(iat) && now + skew < iat)
        {
            return VerifyError.NotYetValid;
        }

        if (policy.Issuers.Length > 0)
        {
            if (!issuerPresent || issuerIndex < 0)
            {
                return VerifyError.BadIssuer;
            }

            claims.Issuer = policy.IssuerStrings[issuerIndex];
        }

        if (policy.Audiences.Length > 0 && (!audiencePresent || !audienceMatched))
        {
            return VerifyError.BadAudience;
        }

        var allRequired = policy.RequiredClaims.Length == 32 ? uint.MaxValue : (1u << policy.RequiredClaims.Length) - 1;
        if (required != allRequired)
        {
            return VerifyError.MissingClaim;
        }

        claims.ExpiresAt = exp;
        claims.NotBefore = double.IsNaN(nbf) ? iat : double.IsNaN(iat) ? nbf : Math.Max(nbf, iat);
        return VerifyError.None;
    }

    /// <summary>Returns the index of the configured value equal to the current string token, or -1.</summary>
    private static int Match(ref Utf8JsonReader reader, byte[][] accepted)
    {
        for (var i = 0; i < accepted.Length; i++)
        {
            if (reader.ValueTextEquals(accepted[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Reads a <c>cnf</c> object (positioned on its start), keeping <c>jkt</c>; other members are skipped.</summary>
    private static bool ReadJkt(ref Utf8JsonReader reader, out string? jkt)
    {
        jkt = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isJkt = reader.ValueTextEquals("jkt"u8);
            reader.Read();
            if (isJkt)
            {
                if (jkt is not null || reader.TokenType != JsonTokenType.String)
                {
                    return false; // twice, or not a string
                }

                jkt = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static int Registered(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("exp"u8) ? Exp
        : reader.ValueTextEquals("nbf"u8) ? Nbf
        : reader.ValueTextEquals("iat"u8) ? Iat
        : reader.ValueTextEquals("iss"u8) ? Iss
        : reader.ValueTextEquals("aud"u8) ? Aud
        : reader.ValueTextEquals("sub"u8) ? Sub
        : reader.ValueTextEquals("jti"u8) ? Jti
        : reader.ValueTextEquals("cnf"u8) ? Cnf
        : reader.ValueTextEquals("scope"u8) ? Scope
        : reader.ValueTextEquals("scp"u8) ? Scp
        : 0;

    /// <summary>
    /// The required scopes named in the current string token (space-separated scope-tokens,
    /// RFC 6749 §3.3), as a bit mask. Unescaped on the stack when short; no allocation.
    /// </summary>
    private static uint MatchScopes(ref Utf8JsonReader reader, byte[][] required)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return MatchScopes(reader.ValueSpan, required);
        }

        var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        byte[]? rented = null;
        var buffer = length <= ScopeStackLimit ? stackalloc byte[ScopeStackLimit] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = reader.CopyString(buffer);
            return MatchScopes(buffer[..written], required);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The required scopes among the space-separated scope-tokens of <paramref name="text"/> (off the hot path).</summary>
    public static uint MatchScopes(string text, byte[][] required) =>
        required.Length == 0 ? 0 : MatchScopes(System.Text.Encoding.UTF8.GetBytes(text), required);

    /// <summary>The required scopes among the space-separated scope-tokens of <paramref name="text"/>.</summary>
    public static uint MatchScopes(ReadOnlySpan<byte> text, byte[][] required)
    {
        var found = 0u;
        while (!text.IsEmpty)
        {
            var space = text.IndexOf((byte)' ');
            var item = space < 0 ? text : text[..space];
            text = space < 0 ? default : text[(space + 1)..];
            if (item.IsEmpty)
            {
                continue;
            }

            for (var i = 0; i < required.Length; i++)
            {
                if (item.SequenceEqual(required[i]))
                {
                    found |= 1u << i;
                }
            }
        }

        return found;
    }

    private static bool ReadNumericDate(ref Utf8JsonReader reader, out double value)
    {
        value = double.NaN;
        return reader.TokenType == JsonTokenType.Number
            && reader.TryGetDouble(out value)
            && double.IsFinite(value);
    }

    /// <summary>Text of a scalar claim for a header; arrays of strings join with commas; objects give null.</summary>
    internal static string? ClaimText(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
            case JsonTokenType.True:
            case JsonTokenType.False:
                return System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.StartArray:
                var copy = reader;
                string? joined = null;
                while (copy.Read() && copy.TokenType == JsonTokenType.String)
                {
                    var item = copy.GetString();
                    joined = joined is null ? item : string.Concat(joined, ",", item);
                }

                return copy.TokenType == JsonTokenType.EndArray ? joined : null;
            default:
                return null;
        }
    }

    private static bool MarkMapped(ref ulong mapped, int index)
    {
        if (index >= 64)
        {
            return true; // beyond 64 mapped claims duplicates are not tracked (the validator caps the map)
        }

        var bit = 1UL << index;
        if ((mapped & bit) != 0)
        {
            return false;
        }

        mapped |= bit;
        return true;
    }

    private static bool Mark(ref int seen, int bit)
    {
        if ((seen & bit) != 0)
        {
            return false;
        }

        seen |= bit;
        return true;
    }
}
