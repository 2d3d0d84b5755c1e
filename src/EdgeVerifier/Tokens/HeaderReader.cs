using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Reads a decoded JOSE header with <see cref="Utf8JsonReader"/> and no allocation.
/// Only <c>alg</c>, <c>kid</c>, <c>typ</c> and <c>crit</c> matter; embedded key headers
/// (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>) are skipped and never used.
/// </summary>
public static class HeaderReader
{
    /// <summary>The longest kid accepted (DESIGN.md step 3).</summary>
    public const int MaxKidLength = 128;

    /// <summary>The kid alphabet <c>[A-Za-z0-9_-]</c>.</summary>
    public static readonly SearchValues<byte> KidAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"u8);

    private const int SeenAlg = 1, SeenKid = 2, SeenTyp = 4, SeenCrit = 8;

    /// <summary>
    /// Parses <paramref name="json"/>. On success <paramref name="kid"/> holds
    /// <see cref="JoseHeader.KidLength"/> validated characters.
    /// </summary>
    /// <param name="json">The decoded header.</param>
    /// <param name="types">Accepted <c>typ</c> values; an absent <c>typ</c> is always accepted.</param>
    /// <param name="kid">At least <see cref="MaxKidLength"/> characters.</param>
    /// <param name="header">What was read.</param>
    public static VerifyError Read(ReadOnlySpan<byte> json, TypPolicy types, Span<char> kid, out JoseHeader header)
    {
        header = default;
        if (!LooksLikeObject(json))
        {
            return VerifyError.MalformedToken;
        }

        var typOk = true;
        var critPresent = false;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return VerifyError.MalformedToken;
            }

            var seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("alg"u8))
                {
                    if (!Mark(ref seen, SeenAlg) || !reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return VerifyError.MalformedToken;
                    }

                    // Escaped alg names are not legitimate; Unknown keeps them out.
                    header.Alg = reader.ValueIsEscaped ? SigningAlgorithm.Unknown : SigningAlgorithms.Parse(reader.ValueSpan);
                }
                else if (reader.ValueTextEquals("kid"u8))
                {
                    if (!Mark(ref seen, SeenKid))
                    {
                        return VerifyError.MalformedToken;
                    }

                    reader.Read();
                    header.Kid = ReadKid(ref reader, kid, out header.KidLength);
                    if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("typ"u8))
                {
                    if (!Mark(ref seen, SeenTyp) || !reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return VerifyError.MalformedToken;
                    }

                    typOk = types.Accepts(ref reader);
                }
                else if (reader.ValueTextEquals("crit"u8))
                {
                    if (!Mark(ref seen, SeenCrit))
                    {
                        return VerifyError.MalformedToken;
                    }

                    // RFC 7515 §4.1.11: we understand no extension, so any crit entry is fatal.
                    critPresent = true;
                    reader.Read();
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return VerifyError.MalformedToken;
            }
        }
        catch (JsonException)
        {
            // Utf8JsonReader has no non-throwing API; LooksLikeObject filters nearly all garbage first.
            return VerifyError.MalformedToken;
        }
        catch (InvalidOperationException)
        {
            // Unescaping a name or kid holding an escaped lone surrogate ("\ud800") throws.
            return VerifyError.MalformedToken;
        }

        if (critPresent)
        {
            return VerifyError.UnsupportedCrit;
        }

        if (header.Alg == SigningAlgorithm.Unknown)
        {
            return VerifyError.UnsupportedAlg;
        }

        if (!typOk)
        {
            return VerifyError.InvalidTyp;
        }

        return header.Kid == KidState.Invalid ? VerifyError.InvalidKid : VerifyError.None;
    }

    /// <summary>Validates a kid given as text, e.g. from the CLI or a file name.</summary>
    public static bool IsValidKid(ReadOnlySpan<char> kid)
    {
        if (kid.IsEmpty || kid.Length > MaxKidLength)
        {
            return false;
        }

        foreach (var c in kid)
        {
            if (c > 0x7f || !KidAlphabet.Contains((byte)c))
            {
                return false;
            }
        }

        return true;
    }

    private static KidState ReadKid(ref Utf8JsonReader reader, Span<char> kid, out int length)
    {
        length = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            return KidState.Invalid;
        }

        var raw = reader.ValueSpan;
        if (raw.Length > MaxKidLength * 6)
        {
            return KidState.Invalid;
        }

        Span<byte> unescaped = stackalloc byte[MaxKidLength * 6];
        var value = reader.ValueIsEscaped ? unescaped[..reader.CopyString(unescaped)] : raw;

        if (value.IsEmpty)
        {
            return KidState.Empty;
        }

        if (value.Length > MaxKidLength || value.ContainsAnyExcept(KidAlphabet))
        {
            return KidState.Invalid;
        }

        length = Encoding.ASCII.GetChars(value, kid);
        return KidState.Valid;
    }

    private static bool Mark(ref int seen, int bit)
    {
        if ((seen & bit) != 0)
        {
            return false; // a duplicate member invites parser differentials: refuse it.
        }

        seen |= bit;
        return true;
    }

    /// <summary>Cheap structural pre-check so random bytes never reach the throwing JSON reader.</summary>
    internal static bool LooksLikeObject(ReadOnlySpan<byte> json)
    {
        var trimmed = json.Trim(" \t\r\n"u8);
        return trimmed.Length >= 2 && trimmed[0] == (byte)'{' && trimmed[^1] == (byte)'}';
    }
}
