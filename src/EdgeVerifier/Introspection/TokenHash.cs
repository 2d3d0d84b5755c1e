using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace EdgeVerifier.Introspection;

/// <summary>
/// SHA-256 of a token's UTF-8 bytes, as a value: the introspection cache's key. The token
/// itself is never kept; a cryptographic hash means one cache entry can only ever answer for
/// the token that produced it.
/// </summary>
internal readonly struct TokenHash : IEquatable<TokenHash>
{
    private const int StackLimit = 1024;

    private readonly ulong _a, _b, _c, _d;

    private TokenHash(ReadOnlySpan<byte> digest)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(digest);
        _a = words[0];
        _b = words[1];
        _c = words[2];
        _d = words[3];
    }

    /// <summary>Hashes <paramref name="token"/> without allocating (stack buffer, or a pooled one for long tokens).</summary>
    public static TokenHash Of(ReadOnlySpan<char> token)
    {
        var max = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(token, buffer);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], digest);
            return new TokenHash(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public bool Equals(TokenHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is TokenHash other && Equals(other);

    // The digest is already uniformly distributed: any 32 bits of it make a good hash code.
    public override int GetHashCode() => (int)_a;
}
