using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EdgeVerifier.Replay;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// <see cref="NonceRing.TryAdd"/> on a ring of the default size (2^20 slots, an 8 MiB memory-mapped
/// file in the temp directory): a new nonce, a replayed one, a full probe chain, and the same
/// inserts from <see cref="Environment.ProcessorCount"/> threads at once.
/// </summary>
/// <remarks>
/// Nonces are 72 bytes, the size of a DPoP one (<c>dpop:</c> + a 43-character thumbprint + <c>:</c>
/// + a 16-byte counter standing in for the jti), written in place so the loop allocates nothing.
/// "Now" advances one second every 16,384 inserts and each nonce lives one second, so the ring
/// reaches its steady state during warm-up: every slot has been used, chains no longer end at an
/// empty slot, each insert compares all 32 slots of its chain and reuses an expired one, and about
/// 7 × 16,384 slots (11 %) are live or in their reuse grace at any time.
/// The contended methods report time per insert (wall time of one invocation ÷ inserts across all
/// threads), so with 2 threads perfect scaling would show half the single-thread figure.
/// </remarks>
[MemoryDiagnoser]
public class NonceRingBenchmarks : IDisposable
{
    private const int Capacity = 1 << 20;
    private const int InsertsPerSecond = 1 << 14;
    private const int ContendedInserts = 1 << 16;
    private const int NonceLength = 72;
    private const long StartSeconds = 1_800_000_000;

    private static readonly byte[] Prefix = "dpop:0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I:"u8.ToArray();

    private string _directory = null!;
    private NonceRing _ring = null!;
    private NonceRing _fullRing = null!;
    private byte[] _nonce = null!;
    private byte[] _replayed = null!;
    private byte[] _overflow = null!;
    private byte[] _hmacKey = null!;
    private IncrementalHash _reusedHmac = null!;
    private long _counter;
    private long _round;
    private Contention? _contention;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "edgeverifier-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        var start = DateTimeOffset.FromUnixTimeSeconds(StartSeconds);
        _ring = NonceRing.Open(Path.Combine(_directory, "bench.ring"), Capacity, start);
        _nonce = NewNonce(0);
        _hmacKey = RandomNumberGenerator.GetBytes(32);
        _reusedHmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _hmacKey);
        _replayed = NewNonce(-1);
        Expect(_ring.TryAdd(_replayed, uint.MaxValue, StartSeconds), NonceResult.Added, "setup");
        Expect(_ring.TryAdd(_replayed, uint.MaxValue, StartSeconds), NonceResult.Replayed, nameof(Insert_Replayed));

        // A small ring with every slot live until far in the future: each insert of a new nonce scans its chain and gives up.
        _fullRing = NonceRing.Open(Path.Combine(_directory, "full.ring"), 1024, start);
        var fill = NewNonce(0);
        for (var i = 1; _fullRing.CountLive(StartSeconds) < 1024; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(fill.AsSpan(Prefix.Length), i);
            _fullRing.TryAdd(fill, uint.MaxValue, StartSeconds);
        }

        _overflow = NewNonce(-2);
        Expect(_fullRing.TryAdd(_overflow, uint.MaxValue, StartSeconds), NonceResult.Full, nameof(Insert_RingFull));

        // Each benchmark must take the path it names, or it measures an early exit.
        Expect(Insert_Distinct(), NonceResult.Added, nameof(Insert_Distinct));
        Expect(Insert_Replayed(), NonceResult.Replayed, nameof(Insert_Replayed));
        Expect(Insert_RingFull(), NonceResult.Full, nameof(Insert_RingFull));
        _contention = new Contention(this, Environment.ProcessorCount);
        Expect(_contention.Run(distinct: true), ContendedInserts, nameof(Insert_Distinct_Contended));
        Expect(_contention.Run(distinct: false), ContendedInserts / Environment.ProcessorCount, nameof(Insert_SameNonces_Contended));
    }

    /// <summary>A new nonce each call (the common case: a fresh DPoP jti).</summary>
    [Benchmark(Baseline = true)]
    public NonceResult Insert_Distinct()
    {
        var n = ++_counter;
        BinaryPrimitives.WriteInt64LittleEndian(_nonce.AsSpan(Prefix.Length), n);
        var now = StartSeconds + (n / InsertsPerSecond);
        return _ring.TryAdd(_nonce, now + 1, now);
    }

    /// <summary>The same nonce again: the failure path (HMAC, then the chain until its twin).</summary>
    [Benchmark]
    public NonceResult Insert_Replayed() => _ring.TryAdd(_replayed, uint.MaxValue, StartSeconds);

    /// <summary>A new nonce into a full chain: HMAC, 32 live slots compared, no slot taken.</summary>
    [Benchmark]
    public NonceResult Insert_RingFull() => _fullRing.TryAdd(_overflow, uint.MaxValue, StartSeconds);

    /// <summary>
    /// For reading the others: the keyed hash every insert starts with (HMAC-SHA-256 of the nonce
    /// under a 32-byte key, as <see cref="NonceRing.TryAdd"/> computes it), alone.
    /// </summary>
    [Benchmark]
    public byte Reference_HmacSha256()
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_hmacKey, _nonce, hash);
        return hash[0];
    }

    /// <summary>The same HMAC from one keyed <see cref="IncrementalHash"/> reused call after call (what each thread keeps).</summary>
    [Benchmark]
    public byte Reference_HmacSha256_Reused()
    {
        Span<byte> hash = stackalloc byte[32];
        _reusedHmac.AppendData(_nonce);
        _reusedHmac.GetHashAndReset(hash);
        return hash[0];
    }

    /// <summary>
    /// <see cref="Environment.ProcessorCount"/> threads each inserting their own new nonces at once:
    /// contention for the ring's memory, rarely for one chain.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ContendedInserts)]
    public int Insert_Distinct_Contended() => _contention!.Run(distinct: true);

    /// <summary>
    /// All threads inserting the same sequence of new nonces in step: every insert races the other
    /// threads for one chain; one wins each nonce, the others are told Replayed.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ContendedInserts)]
    public int Insert_SameNonces_Contended() => _contention!.Run(distinct: false);

    [GlobalCleanup]
    public void Dispose()
    {
        _contention?.Dispose();
        _ring?.Dispose();
        _fullRing?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        GC.SuppressFinalize(this);
    }

    private static byte[] NewNonce(long counter)
    {
        var nonce = new byte[NonceLength];
        Prefix.CopyTo(nonce, 0);
        BinaryPrimitives.WriteInt64LittleEndian(nonce.AsSpan(Prefix.Length), counter);
        RandomNumberGenerator.Fill(nonce.AsSpan(Prefix.Length + 8));
        return nonce;
    }

    private static void Expect<T>(T actual, T expected, string benchmark)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            throw new InvalidOperationException($"{benchmark}: {actual}, expected {expected}");
        }
    }

    /// <summary>
    /// Worker threads started once, released together per invocation by a barrier (the benchmark
    /// thread is one of them), each running its share of <see cref="ContendedInserts"/>.
    /// </summary>
    private sealed class Contention : IDisposable
    {
        private readonly NonceRingBenchmarks _owner;
        private readonly int _threads;
        private readonly Barrier _start;
        private readonly Barrier _done;
        private readonly Thread[] _workers;
        private readonly byte[][] _nonces;
        private readonly int[] _added;
        private volatile bool _distinct;
        private volatile bool _stopping;

        public Contention(NonceRingBenchmarks owner, int threads)
        {
            _owner = owner;
            _threads = threads;
            _start = new Barrier(threads);
            _done = new Barrier(threads);
            _nonces = new byte[threads][];
            _added = new int[threads];
            var template = NewNonce(0);
            for (var t = 0; t < threads; t++)
            {
                _nonces[t] = (byte[])template.Clone();
            }

            _workers = new Thread[threads - 1];
            for (var t = 1; t < threads; t++)
            {
                var index = t;
                _workers[t - 1] = new Thread(() => Loop(index)) { IsBackground = true, Name = "ring-bench-" + index };
                _workers[t - 1].Start();
            }
        }

        /// <summary>One invocation: every thread inserts its share; returns how many inserts were told Added.</summary>
        public int Run(bool distinct)
        {
            _distinct = distinct;
            _owner._round++;
            _start.SignalAndWait();
            Work(0);
            _done.SignalAndWait();
            var added = 0;
            for (var t = 0; t < _threads; t++)
            {
                added += _added[t];
            }

            return added;
        }

        private void Loop(int index)
        {
            while (true)
            {
                _start.SignalAndWait();
                if (_stopping)
                {
                    return;
                }

                Work(index);
                _done.SignalAndWait();
            }
        }

        private void Work(int index)
        {
            var ring = _owner._ring;
            var nonce = _nonces[index];
            var share = ContendedInserts / _threads;
            var first = _owner._round * ContendedInserts;
            var added = 0;

            // Distinct: each thread its own nonces (thread index in the high bits). Same: every
            // thread the same sequence, so the threads race for each nonce.
            var tag = _distinct ? (long)index << 56 : 0;
            for (var i = 0; i < share; i++)
            {
                var n = first + (_distinct ? (index * share) + i : i);
                BinaryPrimitives.WriteInt64LittleEndian(nonce.AsSpan(Prefix.Length), n | tag);
                var now = StartSeconds + (n / InsertsPerSecond);
                if (ring.TryAdd(nonce, now + 1, now) == NonceResult.Added)
                {
                    added++;
                }
            }

            _added[index] = added;
        }

        public void Dispose()
        {
            _stopping = true;
            _start.SignalAndWait();
            foreach (var worker in _workers)
            {
                worker.Join();
            }

            _start.Dispose();
            _done.Dispose();
        }
    }
}
