using System.Text;
using System.Text.Json;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Accepted JOSE <c>typ</c> values. Media types compare case-insensitively and the
/// <c>application/</c> prefix may be omitted (RFC 7515 §4.1.9).
/// </summary>
public sealed class TypPolicy
{
    private const int MaxTypLength = 64;
    private readonly byte[][] _accepted;

    public TypPolicy(IEnumerable<string> accepted)
    {
        var list = new List<byte[]>();
        foreach (var value in accepted)
        {
            list.Add(Encoding.ASCII.GetBytes(Strip(value)));
        }

        _accepted = [.. list];
    }

    /// <summary>Access-token types: <c>JWT</c> and <c>at+jwt</c> (RFC 9068).</summary>
    public static TypPolicy Default { get; } = new(["JWT", "at+jwt"]);

    internal bool Accepts(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        if (reader.ValueIsEscaped || raw.Length > MaxTypLength)
        {
            return false;
        }

        var value = raw;
        if (value.Length > 12 && Ascii.EqualsIgnoreCase(value[..12], "application/"u8))
        {
            value = value[12..];
        }

        foreach (var accepted in _accepted)
        {
            if (Ascii.EqualsIgnoreCase(value, accepted))
            {
                return true;
            }
        }

        return false;
    }

    private static string Strip(string value) =>
        value.StartsWith("application/", StringComparison.OrdinalIgnoreCase) ? value[12..] : value;
}
