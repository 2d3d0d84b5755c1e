using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeVerifier.Replay;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Reads a nonce ring file the way <see cref="NonceRing"/> lays it out (64-byte header: magic,
/// version, capacity, creation time, 32-byte hashing key, CRC-32C) so tests can corrupt it
/// precisely and aim nonces at one probe chain.
/// </summary>
public sealed class RingFile
{
    public const int MagicOffset = 0;
    public const int VersionOffset = 8;
    public const int CapacityOffset = 12;
    public const int CreatedAtOffset = 16;
    public const int KeyOffset = 24;
    public const int ChecksumOffset = 56;

    private readonly byte[] _key;
    private readonly int _mask;

    private RingFile(byte[] header)
    {
        Header = header;
        _key = header.AsSpan(KeyOffset, 32).ToArray();
        Capacity = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(CapacityOffset));
        _mask = Capacity - 1;
    }

    public byte[] Header { get; }

    public int Capacity { get; }

    /// <summary>Reads the header of the ring at <paramref name="path"/>, which no <see cref="NonceRing"/> may hold open (it locks the file).</summary>
    public static RingFile Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var header = new byte[NonceRing.HeaderSize];
        stream.ReadExactly(header);
        return new RingFile(header);
    }

    /// <summary>
    /// Writes an empty, intact ring whose hashing key comes from <paramref name="keySeed"/>, so which
    /// nonces share a probe chain is the same on every run (NonceRing itself draws a random key).
    /// </summary>
    public static void Create(string path, int capacity, DateTimeOffset createdAt, int keySeed)
    {
        var bytes = new byte[NonceRing.HeaderSize + (capacity * 8L)];
        "EVNONCE1"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(VersionOffset), NonceRing.FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(CapacityOffset), capacity);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(CreatedAtOffset), createdAt.ToUnixTimeSeconds());
        new Random(keySeed).NextBytes(bytes.AsSpan(KeyOffset, 32));
        Reseal(bytes);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary><see cref="Create"/>, then <see cref="NonceRing.Open"/> on it (which must find it intact).</summary>
    public static NonceRing OpenSeeded(string path, int capacity, DateTimeOffset createdAt, int keySeed)
    {
        Create(path, capacity, createdAt, keySeed);
        var ring = NonceRing.Open(path, capacity, createdAt);
        if (ring.Recovery is not null)
        {
            ring.Dispose();
            throw new InvalidOperationException("the seeded ring was not accepted: " + ring.Recovery);
        }

        return ring;
    }

    /// <summary>The slot a nonce's probe chain starts at.</summary>
    public int Home(string nonce) => (int)Bits(nonce) & _mask;

    /// <summary><paramref name="count"/> distinct nonces <c>{prefix}{n}</c> whose chains all start at <paramref name="home"/>.</summary>
    public List<string> NoncesAt(int home, int count, string prefix)
    {
        var found = new List<string>(count);
        for (var n = 0; found.Count < count; n++)
        {
            if (n > 1_000_000 * 64)
            {
                throw new InvalidOperationException("no nonces found for that home slot");
            }

            var candidate = prefix + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (Home(candidate) == home)
            {
                found.Add(candidate);
            }
        }

        return found;
    }

    /// <summary>The nonces <c>{prefix}0</c> … <c>{prefix}{candidates - 1}</c> grouped by home slot (index = slot).</summary>
    public List<string>[] ByHome(int candidates, string prefix)
    {
        var buckets = new List<string>[Capacity];
        for (var i = 0; i < Capacity; i++)
        {
            buckets[i] = [];
        }

        for (var n = 0; n < candidates; n++)
        {
            var candidate = prefix + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            buckets[Home(candidate)].Add(candidate);
        }

        return buckets;
    }

    /// <summary>The CRC-32C NonceRing stores at offset 56 for the first 56 header bytes.</summary>
    public static uint Checksum(ReadOnlySpan<byte> header)
    {
        var crc = 0xFFFF_FFFFu;
        for (var i = 0; i < 56; i += 8)
        {
            crc = System.Numerics.BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(header[i..]));
        }

        return ~crc;
    }

    /// <summary>Rewrites the checksum of a header in place so only the deliberate change is wrong.</summary>
    public static void Reseal(Span<byte> header) =>
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChecksumOffset..], Checksum(header));

    private ulong Bits(string nonce)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(nonce), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }
}
