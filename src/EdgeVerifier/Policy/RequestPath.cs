using System.Buffers;
using System.Text;

namespace EdgeVerifier.Policy;

/// <summary>
/// The path of a forwarded request target (<c>X-Forwarded-Uri</c>, <c>X-Original-URI</c>) in one
/// canonical form, so that a prefix match means what it says. Anything a backend could read as a
/// different path is refused rather than repaired: dot segments (<c>..</c>, <c>.</c>, also
/// percent-encoded or with <c>;</c> parameters), empty segments (<c>//</c>), encoded slashes and
/// backslashes (<c>%2F</c>, <c>%5C</c>), raw backslashes, double encoding (<c>%25</c>), control
/// characters, malformed escapes and invalid UTF-8.
/// </summary>
public static class RequestPath
{
    private const int StackLimit = 512;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The decoded path of an origin-form target (<c>/a/b?q</c> → <c>/a/b</c>), or null when it is
    /// not one or is not safe to compare (see the type's remarks). A target that is already a
    /// canonical path (no query, no escapes) is returned as the same instance, without allocating.
    /// </summary>
    public static string? Normalise(string target)
    {
        var end = target.AsSpan().IndexOfAny('?', '#');
        var path = end < 0 ? target.AsSpan() : target.AsSpan(0, end);
        if (path.IsEmpty || path[0] != '/')
        {
            return null;
        }

        if (!path.Contains('%'))
        {
            foreach (var c in path)
            {
                if (c is < ' ' or > '~' or '\\')
                {
                    return null;
                }
            }

            return HasUnsafeSegment(path) ? null : end < 0 ? target : path.ToString();
        }

        return Decode(path);
    }

    private static string? Decode(ReadOnlySpan<char> path)
    {

        byte[]? rented = null;
        var buffer = path.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(path.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < path.Length; i++)
            {
                var c = path[i];
                byte b;
                if (c == '%')
                {
                    if (i + 2 >= path.Length || !IsHex(path[i + 1]) || !IsHex(path[i + 2]))
                    {
                        return null;
                    }

                    b = (byte)((Hex(path[i + 1]) << 4) | Hex(path[i + 2]));
                    i += 2;

                    // An encoded separator or escape character is how a path is smuggled past a prefix check.
                    if (b is (byte)'/' or (byte)'\\' or (byte)'%')
                    {
                        return null;
                    }
                }
                else if (c > '~')
                {
                    return null; // a request target is ASCII (RFC 9112 §3.2); non-ASCII arrives percent-encoded
                }
                else
                {
                    b = (byte)c;
                    if (b == (byte)'\\')
                    {
                        return null;
                    }
                }

                if (b is < 0x20 or 0x7F)
                {
                    return null;
                }

                buffer[length++] = b;
            }

            string decoded;
            try
            {
                decoded = StrictUtf8.GetString(buffer[..length]);
            }
            catch (DecoderFallbackException)
            {
                return null; // invalid or overlong UTF-8 (%C0%AE and the like)
            }

            return HasUnsafeSegment(decoded) ? null : decoded;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Dot segments (also as <c>..;x</c>) and empty segments other than a trailing slash.</summary>
    private static bool HasUnsafeSegment(ReadOnlySpan<char> path)
    {
        var start = 1;
        while (start <= path.Length)
        {
            var next = path[start..].IndexOf('/');
            var slash = next < 0 ? -1 : start + next;
            var end = slash < 0 ? path.Length : slash;
            var segment = path[start..end];
            if (segment.IsEmpty)
            {
                if (slash >= 0)
                {
                    return true; // "//" somewhere: some servers collapse it, some do not
                }
            }
            else
            {
                var parameters = segment.IndexOf(';');
                var name = parameters < 0 ? segment : segment[..parameters];
                if (name is "." or "..")
                {
                    return true;
                }
            }

            if (slash < 0)
            {
                break;
            }

            start = slash + 1;
        }

        return false;
    }

    /// <summary>
    /// Whether canonical <paramref name="path"/> lies under canonical <paramref name="prefix"/> on a
    /// segment boundary: <c>/v/1</c> covers <c>/v/1</c> and <c>/v/1/x</c>, not <c>/v/10</c>;
    /// <c>/v/1/</c> covers <c>/v/1</c> and everything below it.
    /// </summary>
    public static bool IsUnder(string path, string prefix)
    {
        if (prefix.Length == 0 || prefix == "/")
        {
            return true;
        }

        if (prefix[^1] == '/')
        {
            return path.StartsWith(prefix, StringComparison.Ordinal)
                || (path.Length == prefix.Length - 1 && prefix.StartsWith(path, StringComparison.Ordinal));
        }

        return path.StartsWith(prefix, StringComparison.Ordinal)
            && (path.Length == prefix.Length || path[prefix.Length] == '/');
    }

    /// <summary>
    /// Finds <paramref name="name"/> in the query of <paramref name="target"/>
    /// (<c>application/x-www-form-urlencoded</c>, RFC 6750 §2.3). Returns how many times it occurs
    /// (0, 1, or 2 meaning "more than once"); <paramref name="value"/> is the decoded value of a
    /// single occurrence, or null when it is not valid percent-encoding.
    /// </summary>
    public static int FindQueryValue(ReadOnlySpan<char> target, string name, out string? value)
    {
        value = null;
        var query = QueryOf(target);
        var count = 0;
        while (!query.IsEmpty)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? default : query[(amp + 1)..];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (!key.SequenceEqual(name))
            {
                continue;
            }

            if (++count > 1)
            {
                value = null;
                return 2;
            }

            value = eq < 0 ? string.Empty : FormDecode(pair[(eq + 1)..]);
        }

        return count;
    }

    /// <summary>The target with the value of <paramref name="name"/> replaced by <c>***</c>, for logs.</summary>
    public static string Mask(string target, string? name)
    {
        var question = target.IndexOf('?', StringComparison.Ordinal);
        if (name is null || question < 0)
        {
            return target;
        }

        var builder = new StringBuilder(target.Length);
        builder.Append(target.AsSpan(0, question + 1));
        var query = target.AsSpan(question + 1);
        var first = true;
        while (true)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            if (!first)
            {
                builder.Append('&');
            }

            first = false;
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(name))
            {
                builder.Append(key).Append("=***");
            }
            else
            {
                builder.Append(pair);
            }

            if (amp < 0)
            {
                break;
            }

            query = query[(amp + 1)..];
        }

        return builder.ToString();
    }

    private static ReadOnlySpan<char> QueryOf(ReadOnlySpan<char> target)
    {
        var question = target.IndexOf('?');
        if (question < 0)
        {
            return default;
        }

        var query = target[(question + 1)..];
        var hash = query.IndexOf('#');
        return hash < 0 ? query : query[..hash];
    }

    private static string? FormDecode(ReadOnlySpan<char> encoded)
    {
        if (!encoded.ContainsAny('%', '+'))
        {
            return encoded.ToString();
        }

        var bytes = new byte[encoded.Length];
        var length = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '+')
            {
                bytes[length++] = (byte)' ';
            }
            else if (c == '%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    return null;
                }

                bytes[length++] = (byte)((Hex(encoded[i + 1]) << 4) | Hex(encoded[i + 2]));
                i += 2;
            }
            else if (c > '~')
            {
                return null;
            }
            else
            {
                bytes[length++] = (byte)c;
            }
        }

        try
        {
            return StrictUtf8.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int Hex(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
