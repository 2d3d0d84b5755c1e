using System.Text.Json;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Introspection;

/// <summary>What an RFC 7662 answer said, reduced to what the verifier uses.</summary>
internal struct IntrospectionAnswer
{
    public bool Active;
    public string? Subject;
    public string? Issuer;
    public string? Jti;
    public double ExpiresAt;
    public uint Scopes;
    public string? PathScope;
    public string?[]? HeaderValues;
}

/// <summary>
/// Reads an introspection response (RFC 7662 §2.2) in one <see cref="Utf8JsonReader"/> pass:
/// <c>active</c> must be a JSON boolean; <c>sub</c>, <c>iss</c>, <c>jti</c>, <c>scope</c> strings;
/// <c>exp</c> a number; <c>scp</c> a string or an array of strings; none of them twice. Anything
/// else is the wrong shape: the endpoint is misbehaving, so the answer is "unavailable", not "no".
/// </summary>
internal static class IntrospectionResponse
{
    private const int Active = 1, Sub = 2, Iss = 4, Jti = 8, Exp = 16, Scope = 32, Scp = 64, Path = 128;

    /// <summary>Parses <paramref name="json"/>; false and a reason when it is not a well-formed answer.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, ClaimsPolicy policy, out IntrospectionAnswer answer, out string? error)
    {
        answer = default;
        answer.ExpiresAt = double.NaN;
        error = null;
        var seen = 0;
        var mapped = 0UL;
        var headerClaims = policy.HeaderClaims;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "the answer is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var headerIndex = -1;
                for (var i = 0; i < headerClaims.Length; i++)
                {
                    if (reader.ValueTextEquals(headerClaims[i]))
                    {
                        headerIndex = i;
                        break;
                    }
                }

                if (headerIndex >= 0 && headerIndex < 64)
                {
                    var bit = 1UL << headerIndex;
                    if ((mapped & bit) != 0)
                    {
                        error = "a member is repeated";
                        return false;
                    }

                    mapped |= bit;
                }

                var member = Member(ref reader, policy);
                if (!reader.Read())
                {
                    error = "truncated";
                    return false;
                }

                if (headerIndex >= 0)
                {
                    answer.HeaderValues ??= new string?[headerClaims.Length];
                    answer.HeaderValues[headerIndex] = ClaimsReader.ClaimText(ref reader);
                }

                if (member != 0)
                {
                    if ((seen & member) != 0)
                    {
                        error = "a member is repeated";
                        return false;
                    }

                    seen |= member;
                }

                var ok = member switch
                {
                    Active => ReadActive(ref reader, ref answer),
                    Sub => ReadString(ref reader, out answer.Subject),
                    Iss => ReadString(ref reader, out answer.Issuer),
                    Jti => ReadString(ref reader, out answer.Jti),
                    Path => ReadString(ref reader, out answer.PathScope),
                    Exp => reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out answer.ExpiresAt) && double.IsFinite(answer.ExpiresAt),
                    Scope or Scp => ReadScopes(ref reader, member == Scp, policy, ref answer),
                    _ => Skip(ref reader),
                };
                if (!ok)
                {
                    error = "a member has the wrong type";
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "the answer is not a single JSON object";
                return false;
            }
        }
        catch (JsonException)
        {
            error = "the answer is not JSON";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "the answer is not valid UTF-8";
            return false;
        }

        if ((seen & Active) == 0)
        {
            error = "the answer has no boolean 'active'";
            return false;
        }

        return true;
    }

    private static int Member(ref Utf8JsonReader reader, ClaimsPolicy policy) =>
        reader.ValueTextEquals("active"u8) ? Active
        : reader.ValueTextEquals("sub"u8) ? Sub
        : reader.ValueTextEquals("iss"u8) ? Iss
        : reader.ValueTextEquals("jti"u8) ? Jti
        : reader.ValueTextEquals("exp"u8) ? Exp
        : reader.ValueTextEquals("scope"u8) ? Scope
        : reader.ValueTextEquals("scp"u8) ? Scp
        : policy.PathScopeClaim is { } path && reader.ValueTextEquals(path) ? Path
        : 0;

    private static bool ReadActive(ref Utf8JsonReader reader, ref IntrospectionAnswer answer)
    {
        // RFC 7662 §2.2: a JSON boolean. "true" as a string is not true.
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            return false;
        }

        answer.Active = reader.TokenType == JsonTokenType.True;
        return true;
    }

    private static bool ReadString(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        value = reader.GetString();
        return true;
    }

    private static bool ReadScopes(ref Utf8JsonReader reader, bool arrayAllowed, ClaimsPolicy policy, ref IntrospectionAnswer answer)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            answer.Scopes |= ClaimsReader.MatchScopes(reader.GetString()!, policy.Scopes);
            return true;
        }

        if (!arrayAllowed || reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            answer.Scopes |= ClaimsReader.MatchScopes(reader.GetString()!, policy.Scopes);
        }

        return true;
    }

    private static bool Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return true;
    }
}
