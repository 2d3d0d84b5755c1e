using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// <see cref="NonceRing"/> on one thread: insert-if-absent, expiry and reuse, a full chain,
/// persistence across close and reopen, and the start-up policy for files that are not an intact ring.
/// </summary>
public sealed class NonceRingTests : IDisposable
{
    private const int Capacity = 1024;

    private static readonly DateTimeOffset Start = VerifierHarness.Start;
    private static readonly long Now = Start.ToUnixTimeSeconds();

    private readonly TempDirectory _dir = new();

    private string RingPath => _dir.File("nonces.ring");

    public void Dispose() => _dir.Dispose();

    private static byte[] Nonce(string value) => Encoding.UTF8.GetBytes(value);

    private static long FileLength(int capacity) => NonceRing.HeaderSize + (capacity * 8L);

    /// <summary>A ring at <see cref="RingPath"/> with a fixed hashing key, and its header read back for aiming nonces at one chain.</summary>
    private (NonceRing Ring, RingFile File) OpenWithHeader(int capacity = Capacity)
    {
        RingFile.Create(RingPath, capacity, Start, keySeed: 1);
        var file = RingFile.Read(RingPath);
        return (NonceRing.Open(RingPath, capacity, Start), file);
    }

    /// <summary>A ring with a fixed hashing key: where nonces land, and so whether a chain overflows, is the same on every run.</summary>
    private NonceRing OpenSeeded(int capacity = Capacity) => RingFile.OpenSeeded(RingPath, capacity, Start, keySeed: 1);

    [Fact]
    public void Open_NoFile_CreatesRingStampedNow()
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);

        Assert.Equal("no ring file yet", ring.Recovery);
        Assert.Equal(Start, ring.CreatedAt);
        Assert.Equal(Capacity, ring.Capacity);
        Assert.Equal(Path.GetFullPath(RingPath), ring.Path);
        Assert.Equal(FileLength(Capacity), new FileInfo(RingPath).Length);
        Assert.Equal(0, ring.CountLive(Now));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(512)]
    [InlineData(1000)]
    [InlineData(1025)]
    [InlineData(1 << 29)]
    public void Open_CapacityNotPowerOfTwoFrom1024To2Pow28_Throws(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NonceRing.Open(RingPath, capacity, Start));
        Assert.False(File.Exists(RingPath));
    }

    [Fact]
    public void TryAdd_NewNonce_AddedThenReplayed()
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);

        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("a"), Now + 60, Now));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce("a"), Now + 60, Now));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce("a"), Now + 3600, Now + 59));
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("b"), Now + 60, Now));
        Assert.Equal(2, ring.CountLive(Now));
    }

    [Fact]
    public void TryAdd_NoncesDifferingInOneByte_AreDistinct()
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);

        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("dpop:abc:1"), Now + 60, Now));
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("dpop:abc:2"), Now + 60, Now));
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("dpop:abd:1"), Now + 60, Now));
        Assert.Equal(NonceResult.Added, ring.TryAdd([], Now + 60, Now));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd([], Now + 60, Now));
    }

    [Fact]
    public void Open_FileWrittenToTheDocumentedLayout_IsAcceptedIntact()
    {
        var createdAt = Start.AddDays(-3);
        RingFile.Create(RingPath, 2048, createdAt, keySeed: 5);

        using var ring = NonceRing.Open(RingPath, 2048, Start);

        Assert.Null(ring.Recovery);
        Assert.Equal(createdAt, ring.CreatedAt);
        Assert.Equal(2048, ring.Capacity);
    }

    [Fact]
    public void TryAdd_ManyDistinctNoncesAtQuarterLoad_AllAdded()
    {
        using var ring = OpenSeeded(4096);
        var random = new Random(1234);
        var nonces = new HashSet<string>(StringComparer.Ordinal);
        while (nonces.Count < 1024)
        {
            nonces.Add(random.NextInt64().ToString(CultureInfo.InvariantCulture));
        }

        foreach (var nonce in nonces)
        {
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce(nonce), Now + 60, Now));
        }

        foreach (var nonce in nonces)
        {
            Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce(nonce), Now + 60, Now));
        }

        Assert.Equal(1024, ring.CountLive(Now));
    }

    [Fact]
    public void TryAdd_AtAndAfterExpiry_NonceIsForgotten()
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("a"), Now + 10, Now));

        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce("a"), Now + 20, Now + 9));
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("a"), Now + 20, Now + 10));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce("a"), Now + 30, Now + 19));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-1_000_000)]
    public void TryAdd_ExpiryNotAfterNow_KeptUntilTheNextSecond(long expiresInSeconds)
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);

        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("a"), Now + expiresInSeconds, Now));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce("a"), Now + expiresInSeconds, Now));
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("a"), Now + expiresInSeconds, Now + 1));
    }

    [Fact]
    public void TryAdd_ExpiredRoundsFarBeyondCapacity_SlotsAreReclaimed()
    {
        // 16 rounds of 500 live nonces (49 % of 1,024 slots, the documented sizing): 8,000 inserts.
        using var ring = OpenSeeded();
        var now = Now;
        for (var round = 0; round < 16; round++)
        {
            var expiry = now + 10;
            for (var i = 0; i < 500; i++)
            {
                Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce($"r{round}-{i}"), expiry, now));
            }

            Assert.Equal(500, ring.CountLive(now));
            now = expiry + NonceRing.ReuseGraceSeconds;
            Assert.Equal(0, ring.CountLive(now));
        }
    }

    [Fact]
    public void TryAdd_ChainFullOfExpiredEntries_ReusedOnlyAfterTheGrace()
    {
        var (ring, file) = OpenWithHeader();
        using var _ = ring;
        var chain = file.NoncesAt(home: 100, NonceRing.MaxProbe + 1, "g");
        var expiry = Now + 10;
        for (var i = 0; i < NonceRing.MaxProbe; i++)
        {
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce(chain[i]), expiry, Now));
        }

        var newcomer = Nonce(chain[^1]);

        // Expired (no longer a twin) but inside the grace: not yet reusable.
        Assert.Equal(NonceResult.Full, ring.TryAdd(newcomer, expiry + 60, expiry));
        Assert.Equal(NonceResult.Full, ring.TryAdd(newcomer, expiry + 60, expiry + NonceRing.ReuseGraceSeconds - 1));
        Assert.Equal(NonceResult.Added, ring.TryAdd(newcomer, expiry + 60, expiry + NonceRing.ReuseGraceSeconds));

        // An expired nonce offered again is new, and takes the next reusable slot.
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce(chain[0]), expiry + 60, expiry + NonceRing.ReuseGraceSeconds));
    }

    [Fact]
    public void TryAdd_ChainOfMaxProbeLiveEntries_FullWhileRingIsNearlyEmpty()
    {
        var (ring, file) = OpenWithHeader();
        using var _ = ring;
        var chain = file.NoncesAt(home: Capacity - 5, NonceRing.MaxProbe + 2, "c"); // the chain wraps past the end
        for (var i = 0; i < NonceRing.MaxProbe; i++)
        {
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce(chain[i]), Now + 60, Now));
        }

        Assert.Equal(NonceResult.Full, ring.TryAdd(Nonce(chain[^2]), Now + 60, Now));
        Assert.Equal(NonceResult.Full, ring.TryAdd(Nonce(chain[^1]), Now + 60, Now));

        // A nonce already in the full chain is still recognised: a replay is never reported as Full.
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce(chain[0]), Now + 60, Now));
        Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce(chain[NonceRing.MaxProbe - 1]), Now + 60, Now));
        Assert.Equal(NonceRing.MaxProbe, ring.CountLive(Now));

        // Nonces homed elsewhere are unaffected.
        var elsewhere = file.NoncesAt(home: 500, 1, "e")[0];
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce(elsewhere), Now + 60, Now));
    }

    [Fact]
    public void TryAdd_EverySlotLive_NewNoncesFullKnownNoncesReplayed()
    {
        using var ring = NonceRing.Open(RingPath, Capacity, Start);
        var added = new List<string>();
        var random = new Random(42);
        for (var attempt = 0; attempt < 200_000 && ring.CountLive(Now) < Capacity; attempt++)
        {
            var nonce = "f" + random.NextInt64().ToString(CultureInfo.InvariantCulture);
            var result = ring.TryAdd(Nonce(nonce), Now + 300, Now);
            Assert.NotEqual(NonceResult.Replayed, result);
            if (result == NonceResult.Added)
            {
                added.Add(nonce);
            }
        }

        Assert.Equal(Capacity, ring.CountLive(Now));
        Assert.Equal(Capacity, added.Count);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(NonceResult.Full, ring.TryAdd(Nonce("new-" + i), Now + 300, Now));
            Assert.Equal(NonceResult.Replayed, ring.TryAdd(Nonce(added[i * 10]), Now + 300, Now));
        }

        // Once they expire (and the grace passes), the same ring takes new nonces again.
        Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("new-0"), Now + 600, Now + 300 + NonceRing.ReuseGraceSeconds));
    }

    [Fact]
    public void Open_AfterDispose_RemembersNoncesKeyAndCreationTime()
    {
        using (var ring = NonceRing.Open(RingPath, Capacity, Start))
        {
            for (var i = 0; i < 500; i++)
            {
                Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("p" + i), Now + 3600, Now));
            }
        }

        var header = RingFile.Read(RingPath).Header;
        using (NonceRing.Open(RingPath, Capacity, Start.AddMinutes(1)))
        {
        }

        Assert.Equal(header, RingFile.Read(RingPath).Header);
        using var reopened = NonceRing.Open(RingPath, Capacity, Start.AddMinutes(5));

        Assert.Null(reopened.Recovery);
        Assert.Equal(Start, reopened.CreatedAt);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.corrupt-*"));
        Assert.Equal(500, reopened.CountLive(Now + 300));
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(NonceResult.Replayed, reopened.TryAdd(Nonce("p" + i), Now + 3600, Now + 300));
        }

        Assert.Equal(NonceResult.Added, reopened.TryAdd(Nonce("p500"), Now + 3600, Now + 300));
    }

    [Fact]
    public void Open_RingHeldByAnotherHandle_ThrowsAndLeavesTheFileInPlace()
    {
        // A second instance on the same file must not mistake the lock for corruption and move
        // the live ring aside (each would then remember only its own nonces).
        using var first = NonceRing.Open(RingPath, Capacity, Start);
        Assert.Equal(NonceResult.Added, first.TryAdd(Nonce("held"), Now + 60, Now));

        Assert.ThrowsAny<IOException>(() => NonceRing.Open(RingPath, Capacity, Start.AddSeconds(1)));

        Assert.Empty(Directory.GetFiles(_dir.Path, "*.corrupt-*"));
        Assert.Equal(NonceResult.Replayed, first.TryAdd(Nonce("held"), Now + 60, Now));
        first.Dispose();
        using var second = NonceRing.Open(RingPath, Capacity, Start.AddSeconds(2));
        Assert.Null(second.Recovery);
        Assert.Equal(NonceResult.Replayed, second.TryAdd(Nonce("held"), Now + 60, Now + 2));
    }

    [Fact]
    public void TryAdd_AfterDispose_ThrowsObjectDisposed()
    {
        var ring = NonceRing.Open(RingPath, Capacity, Start);
        ring.Dispose();
        ring.Dispose();
        ring.Flush();

        Assert.Throws<ObjectDisposedException>(() => ring.TryAdd(Nonce("a"), Now + 60, Now));
    }

    public static TheoryData<string, string> Corruptions() => new()
    {
        { "empty", "truncated (0 bytes)" },
        { "half a header", "truncated (32 bytes)" },
        { "garbage", "bad magic" },
        { "bad magic", "bad magic" },
        { "version 2", "format version 2" },
        { "key byte flipped", "checksum" },
        { "creation time changed", "checksum" },
        { "checksum flipped", "checksum" },
        { "capacity field 2048", "capacity 2048" },
        { "last slot cut off", "truncated" },
        { "one byte appended", "truncated" },
        { "header only", "truncated (64 of" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Open_NotAnIntactRing_MovesItAsideAndStartsAnew(string corruption, string reason)
    {
        using (var ring = NonceRing.Open(RingPath, Capacity, Start))
        {
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("before"), Now + 86400, Now));
        }

        var bytes = File.ReadAllBytes(RingPath);
        var damaged = Damage(bytes, corruption);
        File.WriteAllBytes(RingPath, damaged);
        var later = Start.AddHours(1);

        using var fresh = NonceRing.Open(RingPath, Capacity, later);

        Assert.NotNull(fresh.Recovery);
        Assert.Contains(reason, fresh.Recovery, StringComparison.Ordinal);
        Assert.Equal(later, fresh.CreatedAt);
        var aside = $"{Path.GetFullPath(RingPath)}.corrupt-{later.ToUnixTimeSeconds()}";
        Assert.Equal(damaged, File.ReadAllBytes(aside));
        Assert.Equal(FileLength(Capacity), new FileInfo(RingPath).Length);
        Assert.Equal(0, fresh.CountLive(later.ToUnixTimeSeconds()));
        Assert.Equal(NonceResult.Added, fresh.TryAdd(Nonce("before"), Now + 86400, later.ToUnixTimeSeconds()));
    }

    private static byte[] Damage(byte[] ring, string corruption)
    {
        var bytes = (byte[])ring.Clone();
        switch (corruption)
        {
            case "empty":
                return [];
            case "half a header":
                return bytes[..32];
            case "header only":
                return bytes[..NonceRing.HeaderSize];
            case "garbage":
                new Random(7).NextBytes(bytes);
                return bytes;
            case "bad magic":
                bytes[0] ^= 0x20;
                RingFile.Reseal(bytes);
                return bytes;
            case "version 2":
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(RingFile.VersionOffset), 2);
                RingFile.Reseal(bytes);
                return bytes;
            case "key byte flipped":
                bytes[RingFile.KeyOffset + 5] ^= 1;
                return bytes;
            case "creation time changed":
                bytes[RingFile.CreatedAtOffset] ^= 1;
                return bytes;
            case "checksum flipped":
                bytes[RingFile.ChecksumOffset] ^= 0x80;
                return bytes;
            case "capacity field 2048":
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(RingFile.CapacityOffset), 2048);
                RingFile.Reseal(bytes);
                return bytes;
            case "last slot cut off":
                return bytes[..^8];
            case "one byte appended":
                return [.. bytes, 0];
            default:
                throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }
    }

    [Fact]
    public void Open_RingOfAnotherCapacity_MovesItAsideAndStartsAnew()
    {
        NonceRing.Open(RingPath, 2048, Start).Dispose();

        using var ring = NonceRing.Open(RingPath, Capacity, Start.AddSeconds(30));

        Assert.Equal("capacity 2048 (configured 1024)", ring.Recovery);
        Assert.Equal(Capacity, ring.Capacity);
        Assert.True(File.Exists($"{Path.GetFullPath(RingPath)}.corrupt-{Now + 30}"));
    }

    [Fact]
    public void Open_EveryTruncation_RecreatesWithoutThrowing()
    {
        using (var ring = NonceRing.Open(RingPath, Capacity, Start))
        {
            ring.TryAdd(Nonce("x"), Now + 60, Now);
        }

        var bytes = File.ReadAllBytes(RingPath);
        var lengths = Enumerable.Range(0, NonceRing.HeaderSize + 17).Concat([bytes.Length / 2, bytes.Length - 1]);
        var when = Start;
        foreach (var length in lengths)
        {
            File.WriteAllBytes(RingPath, bytes[..length]);
            when = when.AddSeconds(1);

            using var ring = NonceRing.Open(RingPath, Capacity, when);

            Assert.True(ring.Recovery?.StartsWith("truncated", StringComparison.Ordinal), $"length {length}: {ring.Recovery}");
            Assert.Equal(bytes[..length], File.ReadAllBytes($"{Path.GetFullPath(RingPath)}.corrupt-{when.ToUnixTimeSeconds()}"));
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("x"), Now + 60, Now));
        }
    }

    [Fact]
    public void Open_RandomFiles_NeverThrows()
    {
        // A fuzz target over bytes: any file at the ring path, some starting with a valid magic and version.
        var random = new Random(2026);
        var magicAndVersion = MagicAndVersion();
        for (var i = 0; i < 150; i++)
        {
            var bytes = new byte[random.Next(0, (int)FileLength(Capacity) + 32)];
            random.NextBytes(bytes);
            if (i % 3 == 0 && bytes.Length >= magicAndVersion.Length)
            {
                magicAndVersion.CopyTo(bytes, 0);
            }

            File.WriteAllBytes(RingPath, bytes);

            using var ring = NonceRing.Open(RingPath, Capacity, Start.AddSeconds(i));

            Assert.NotNull(ring.Recovery);
            Assert.Equal(NonceResult.Added, ring.TryAdd(Nonce("n" + i), Now + 60, Now));
        }
    }

    private byte[] MagicAndVersion()
    {
        var path = _dir.File("template.ring");
        NonceRing.Open(path, Capacity, Start).Dispose();
        return File.ReadAllBytes(path)[..12];
    }

    [Fact]
    public void TryAdd_SlotsOverwrittenWithRandomBytes_NeverThrows()
    {
        // The header is checksummed, the slots are not: whatever they hold, inserts answer.
        NonceRing.Open(RingPath, Capacity, Start).Dispose();
        var bytes = File.ReadAllBytes(RingPath);
        new Random(99).NextBytes(bytes.AsSpan(NonceRing.HeaderSize));
        File.WriteAllBytes(RingPath, bytes);

        using var ring = NonceRing.Open(RingPath, Capacity, Start);

        Assert.Null(ring.Recovery);
        var random = new Random(100);
        var counts = new int[3];
        for (var i = 0; i < 5000; i++)
        {
            var now = random.NextInt64(0, uint.MaxValue);
            counts[(int)ring.TryAdd(Nonce("z" + i), now + random.Next(-10, 3600), now)]++;
        }

        Assert.Equal(5000, counts.Sum());
        Assert.InRange(ring.CountLive(Now), 0, Capacity);
    }
}
