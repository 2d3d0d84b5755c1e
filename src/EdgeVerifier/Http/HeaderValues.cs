using System.Text;

namespace EdgeVerifier.Http;

/// <summary>Makes claim values safe for response headers.</summary>
internal static class HeaderValues
{
    /// <summary>
    /// Visible ASCII passes unchanged. Anything else (control characters, CR/LF, non-ASCII) is
    /// percent-encoded as UTF-8, together with <c>%</c> itself, so no claim can inject a header
    /// and none is lost.
    /// </summary>
    public static string Safe(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return Encode(value);
            }
        }

        return value;
    }

    private static string Encode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7e and not (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
