using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace EdgeVerifier.Replay;

/// <summary>The outcome of offering a nonce to the ring.</summary>
public enum NonceResult : byte
{
    /// <summary>First sighting: recorded until its expiry.</summary>
    Added,

    /// <summary>Seen before and not yet expired (or, with probability ≤ 7.5e-9, a fingerprint collision: fail closed).</summary>
    Replayed,

    /// <summary>No free slot within the probe limit: the caller must fail closed.</summary>
    Full,
}

/// <summary>
/// A fixed-capacity set of recently seen nonces (DPoP proof <c>jti</c>s, one-time token
/// <c>jti</c>s) with per-entry expiry, lock-free (compare-and-swap on 64-bit slots) and kept in a
/// memory-mapped file, so an entry written before a crash or <c>kill -9</c> is still there after it.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> A 64-byte header (magic <c>EVNONCE1</c>, format version, capacity, creation
/// time, a random 32-byte hashing key, CRC-32C over all of it) then <c>capacity</c> slots of 8 bytes:
/// the high 32 bits a fingerprint, the low 32 bits the expiry in Unix seconds; 0 is empty. Slots
/// never return to 0, so probe chains stay contiguous; an expired entry is reused in place.</para>
/// <para><b>Hashing.</b> HMAC-SHA-256 under the file's secret key gives the home slot and the
/// fingerprint, so clients cannot aim their nonces at one chain.</para>
/// <para><b>Exactly once.</b> Insert scans the probe chain (at most <see cref="MaxProbe"/> slots) for a
/// live twin, claims the first free or expired slot by CAS, then re-scans the whole chain: if a
/// concurrent insert of the same nonce claimed another slot, this one yields (its entry stays, a
/// harmless duplicate until the same expiry) and reports <see cref="NonceResult.Replayed"/>. Of N
/// racing inserts of one nonce at most one returns <see cref="NonceResult.Added"/>, and exactly one
/// when they read the same second: free slots then only ever become occupied, so two inserts cannot
/// both claim. When the clock ticks mid-race and frees a slot for one insert but not the other,
/// both may yield (a false rejection, never a double acceptance).</para>
/// <para><b>False rejection.</b> A fresh nonce is refused only if a live entry among the ≤ 32 it
/// is compared with has the same 32-bit fingerprint: p ≤ 32 / 2^32 ≈ 7.5 × 10^-9 per insert.</para>
/// <para><b>Sizing.</b> Keep live entries (nonces per second × their lifetime, plus
/// <see cref="ReuseGraceSeconds"/>) under half the capacity; at that load a chain of 32 without a
/// free slot is rare, and if it happens the insert reports <see cref="NonceResult.Full"/> (fail
/// closed, counted in metrics). Measured filling a 2^20-slot ring: no Full up to 40 % load, the
/// first near 48 %, then about 1 insert in 2,000 between 50 and 60 % and 1 in 130 between 60 and 70 %.</para>
/// </remarks>
public sealed unsafe class NonceRing : IDisposable
{
    public const int MaxProbe = 32;
    public const int HeaderSize = 64;
    public const uint FormatVersion = 1;
    private const ulong Magic = 0x31_45_43_4E_4F_4E_56_45; // "EVNONCE1" little-endian
    private const int KeySize = 32;

    /// <summary>
    /// An expired slot is reused only this long after its expiry. Liveness uses the expiry itself,
    /// so two inserts whose clocks differ by less than this never disagree about a slot being
    /// free while one of them still sees it live (which could let both claim different slots).
    /// </summary>
    public const int ReuseGraceSeconds = 5;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long* _slots;
    private readonly int _mask;
    private readonly byte[] _key;

    // One keyed HMAC per thread, reset after each use: 0.6 µs a nonce against 1.4 µs for the one-shot
    // HMACSHA256.HashData, which sets the key up again on every call (NonceRingBenchmarks.Reference_*).
    private readonly ThreadLocal<IncrementalHash> _hmac;
    private int _disposed;

    private NonceRing(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePointer, int capacity, byte[] key, DateTimeOffset createdAt, string path, string? recovery)
    {
        _file = file;
        _view = view;
        _slots = (long*)(basePointer + HeaderSize);
        _mask = capacity - 1;
        _key = key;
        // Not tracked: a thread that exits leaves its HMAC to the finalizer instead of to this ring until disposal.
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key), trackAllValues: false);
        Capacity = capacity;
        CreatedAt = createdAt;
        Path = path;
        Recovery = recovery;
    }

    public int Capacity { get; }

    public string Path { get; }

    /// <summary>When this ring's contents began. Nonces used before it are unknown to it.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Why the ring was created anew at open (missing, corrupt, truncated, other version…), or null when reopened intact.</summary>
    public string? Recovery { get; }

    /// <summary>
    /// Opens the ring at <paramref name="path"/>, or creates it. A file that is truncated, corrupt,
    /// of another format version or another capacity is moved aside to <c>{path}.corrupt-{unix}</c>
    /// and a new ring is created (see <see cref="Recovery"/>); it never throws for bad contents.
    /// </summary>
    /// <param name="path">The ring file.</param>
    /// <param name="capacity">Slots; a power of two from 1,024 to 2^28.</param>
    /// <param name="now">The time a new ring is stamped with.</param>
    public static NonceRing Open(string path, int capacity, DateTimeOffset now)
    {
        if (capacity < 1024 || capacity > (1 << 28) || !BitOperations.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a power of two from 1024 to 2^28");
        }

        var full = System.IO.Path.GetFullPath(path);
        var length = HeaderSize + ((long)capacity * sizeof(long));
        string? recovery = null;
        FileStream? stream = null;
        if (File.Exists(full))
        {
            // Lock first: a ring another instance holds is in use, not corrupt. Opening it throws
            // (a start-up error) instead of moving a live ring aside.
            stream = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            recovery = Inspect(stream, capacity, length);
            if (recovery is not null)
            {
                stream.Dispose();
                stream = null;
                File.Move(full, $"{full}.corrupt-{now.ToUnixTimeSeconds()}", overwrite: true);
            }
        }
        else
        {
            recovery = "no ring file yet";
        }

        var created = recovery is not null;
        stream ??= new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        if (created)
        {
            stream.SetLength(length);
        }

        var file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        pointer += view.PointerOffset;
        var header = new Span<byte>(pointer, HeaderSize);
        if (created)
        {
            WriteHeader(header, capacity, now, RandomNumberGenerator.GetBytes(KeySize));
            view.Flush();
        }

        var key = header.Slice(24, KeySize).ToArray();
        var createdAt = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64LittleEndian(header[16..]));
        return new NonceRing(file, view, pointer, capacity, key, createdAt, full, recovery);
    }

    /// <summary>Null when the file is an intact ring of this capacity; else why not.</summary>
    private static string? Inspect(FileStream stream, int capacity, long length)
    {
        try
        {
            if (stream.Length < HeaderSize)
            {
                return $"truncated ({stream.Length} bytes)";
            }

            Span<byte> header = stackalloc byte[HeaderSize];
            stream.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt64LittleEndian(header) != Magic)
            {
                return "not a nonce ring (bad magic)";
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != FormatVersion)
            {
                return $"format version {BinaryPrimitives.ReadUInt32LittleEndian(header[8..])} (expected {FormatVersion})";
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header[56..]) != Checksum(header))
            {
                return "header checksum mismatch";
            }

            var stored = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (stored != capacity)
            {
                return $"capacity {stored} (configured {capacity})";
            }

            return stream.Length != length ? $"truncated ({stream.Length} of {length} bytes)" : null;
        }
        catch (IOException e)
        {
            return "unreadable: " + e.Message;
        }
    }

    private static void WriteHeader(Span<byte> header, int capacity, DateTimeOffset now, byte[] key)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], capacity);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], now.ToUnixTimeSeconds());
        key.CopyTo(header[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[56..], Checksum(header));
    }

    private static uint Checksum(ReadOnlySpan<byte> header)
    {
        var crc = 0xFFFF_FFFFu;
        for (var i = 0; i < 56; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(header[i..]));
        }

        return ~crc;
    }

    /// <summary>
    /// Records <paramref name="nonce"/> until <paramref name="expiresAt"/> unless it is already there.
    /// Lock-free; allocation-free.
    /// </summary>
    /// <param name="nonce">The value, already namespaced by the caller (e.g. <c>dpop:</c> + jti).</param>
    /// <param name="expiresAt">Unix seconds after which the nonce may be forgotten.</param>
    /// <param name="now">Unix seconds now.</param>
    public NonceResult TryAdd(ReadOnlySpan<byte> nonce, long expiresAt, long now)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Span<byte> hash = stackalloc byte[32];
        var hmac = _hmac.Value!;
        hmac.AppendData(nonce);
        hmac.GetHashAndReset(hash);
        var bits = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        var fingerprint = (uint)(bits >> 32);
        if (fingerprint is 0 or 0xFFFF_FFFF)
        {
            fingerprint = 1; // 0 marks empty, all-ones the tombstone
        }

        var home = (int)bits & _mask;
        var expiry = (uint)Math.Clamp(expiresAt, now + 1, uint.MaxValue);
        var entry = ((long)fingerprint << 32) | expiry;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            // 1. Look for a live twin; remember the first slot that may be taken.
            var free = -1;
            long seen = 0;
            for (var i = 0; i < MaxProbe; i++)
            {
                var value = Volatile.Read(ref Slot(home + i));
                if (value == 0)
                {
                    if (free < 0)
                    {
                        free = i;
                        seen = 0;
                    }

                    break;
                }

                if ((uint)value <= now)
                {
                    // Expired: reusable once past the grace, never a twin.
                    if (free < 0 && (long)(uint)value + ReuseGraceSeconds <= now)
                    {
                        free = i;
                        seen = value;
                    }

                    continue;
                }

                if ((uint)(value >>> 32) == fingerprint)
                {
                    return NonceResult.Replayed;
                }
            }

            if (free < 0)
            {
                return NonceResult.Full;
            }

            // 2. Claim it; someone else may have taken it meanwhile: then look again.
            if (Interlocked.CompareExchange(ref Slot(home + free), entry, seen) != seen)
            {
                continue;
            }

            // 3. A racing insert of the same nonce may hold another slot (a slot became reusable
            // between the two scans as the clock ticked). Whichever of the two claims came second
            // sees the other here, before or after its own slot, and yields; if both see each
            // other, both yield (fail closed). The yielded entry stays: it is the same nonce with
            // the same expiry, and a slot freed early could let a third insert slip in unseen.
            for (var i = 0; i < MaxProbe; i++)
            {
                if (i == free)
                {
                    continue;
                }

                var value = Volatile.Read(ref Slot(home + i));
                if (value == 0)
                {
                    break;
                }

                if ((uint)value > now && (uint)(value >>> 32) == fingerprint)
                {
                    return NonceResult.Replayed;
                }
            }

            return NonceResult.Added;
        }

        return NonceResult.Full; // heavy contention on one chain: fail closed
    }

    /// <summary>Live entries (expiry after <paramref name="now"/>) by a full scan: for metrics, not for the hot path.</summary>
    public int CountLive(long now)
    {
        var live = 0;
        for (var i = 0; i < Capacity; i++)
        {
            var value = Volatile.Read(ref _slots[i]);
            if (value != 0 && (uint)value > now)
            {
                live++;
            }
        }

        return live;
    }

    /// <summary>Writes dirty pages to disk (msync). The kernel keeps them across a process crash anyway; this covers power loss.</summary>
    public void Flush()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _view.Flush();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref long Slot(int index) => ref _slots[index & _mask];

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _view.Flush();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        _hmac.Dispose();
    }
}
