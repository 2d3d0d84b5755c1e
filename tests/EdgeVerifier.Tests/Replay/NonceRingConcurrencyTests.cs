using System.Globalization;
using System.Text;
using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// The concurrency hammer: many threads offering the same and different nonces to one ring.
/// Every insert of a nonce is counted; exactly one may come back <see cref="NonceResult.Added"/>.
/// Seeds are fixed; sizes are small enough for a loaded 2-core machine.
/// </summary>
public sealed class NonceRingConcurrencyTests : IDisposable
{
    private const int Threads = 8;

    private static readonly DateTimeOffset Start = VerifierHarness.Start;
    private static readonly long Now = Start.ToUnixTimeSeconds();

    private readonly TempDirectory _dir = new();

    private string RingPath => _dir.File("nonces.ring");

    public void Dispose() => _dir.Dispose();

    private static byte[][] Nonces(string prefix, int count)
    {
        var nonces = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            nonces[i] = Encoding.UTF8.GetBytes(prefix + i.ToString(CultureInfo.InvariantCulture));
        }

        return nonces;
    }

    /// <summary>Runs <paramref name="work"/>(thread index) on <see cref="Threads"/> threads released together.</summary>
    private static void RunTogether(Action<int> work)
    {
        using var ready = new Barrier(Threads);
        var failures = new Exception?[Threads];
        var threads = new Thread[Threads];
        for (var t = 0; t < Threads; t++)
        {
            var index = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    ready.SignalAndWait();
                    work(index);
                }
                catch (Exception e)
                {
                    failures[index] = e;
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a hammer thread did not finish within 60 s");
        }

        foreach (var failure in failures)
        {
            if (failure is not null)
            {
                throw new InvalidOperationException("a hammer thread failed", failure);
            }
        }
    }

    [Fact]
    public void TryAdd_ThreadsOfferSharedAndOwnNonces_EachAddedExactlyOnce()
    {
        // 3,000 nonces every thread offers (half the threads in order, so they collide head-on; the
        // others in their own shuffled order) interleaved with 1,000 nonces only that thread offers.
        const int SharedCount = 3000, OwnCount = 1000;
        using var ring = RingFile.OpenSeeded(RingPath, 1 << 15, Start, keySeed: 11);
        var shared = Nonces("shared-", SharedCount);
        var own = new byte[Threads][][];
        var orders = new int[Threads][];
        for (var t = 0; t < Threads; t++)
        {
            own[t] = Nonces($"own-{t}-", OwnCount);
            orders[t] = [.. Enumerable.Range(0, SharedCount)];
            if (t % 2 == 1)
            {
                new Random(1000 + t).Shuffle(orders[t]);
            }
        }

        var sharedAdded = new int[SharedCount];
        var sharedReplayed = new int[SharedCount];
        var ownResults = new NonceResult[Threads, OwnCount];
        var full = 0;

        RunTogether(t =>
        {
            for (var i = 0; i < SharedCount; i++)
            {
                var n = orders[t][i];
                switch (ring.TryAdd(shared[n], Now + 60, Now))
                {
                    case NonceResult.Added: Interlocked.Increment(ref sharedAdded[n]); break;
                    case NonceResult.Replayed: Interlocked.Increment(ref sharedReplayed[n]); break;
                    default: Interlocked.Increment(ref full); break;
                }

                if (i % 3 == 0)
                {
                    ownResults[t, i / 3] = ring.TryAdd(own[t][i / 3], Now + 60, Now);
                }
            }
        });

        Assert.Equal(0, full);
        for (var n = 0; n < SharedCount; n++)
        {
            Assert.True(sharedAdded[n] == 1, $"shared nonce {n} added {sharedAdded[n]} times");
            Assert.Equal(Threads - 1, sharedReplayed[n]);
        }

        for (var t = 0; t < Threads; t++)
        {
            for (var i = 0; i < OwnCount; i++)
            {
                Assert.Equal(NonceResult.Added, ownResults[t, i]);
            }
        }

        Assert.Equal(SharedCount + (Threads * OwnCount), ring.CountLive(Now));
    }

    [Fact]
    public void TryAdd_AllThreadsRaceForOneNonce_ExactlyOneAddedPerRound()
    {
        const int Rounds = 300;
        using var ring = RingFile.OpenSeeded(RingPath, 4096, Start, keySeed: 12);
        var nonces = Nonces("race-", Rounds);
        var added = new int[Rounds];
        var replayed = new int[Rounds];
        using var round = new Barrier(Threads);

        RunTogether(_ =>
        {
            for (var r = 0; r < Rounds; r++)
            {
                round.SignalAndWait();
                var result = ring.TryAdd(nonces[r], Now + 60, Now);
                Interlocked.Increment(ref result == NonceResult.Added ? ref added[r] : ref replayed[r]);
            }
        });

        for (var r = 0; r < Rounds; r++)
        {
            Assert.True(added[r] == 1, $"round {r}: {added[r]} threads were told Added");
            Assert.Equal(Threads - 1, replayed[r]);
        }
    }

    [Fact]
    public void TryAdd_ThreadsRaceOnOneProbeChain_EachNonceAddedExactlyOnce()
    {
        // 24 nonces with the same home slot: every insert contends for the same 32 slots.
        RingFile.Create(RingPath, 1024, Start, keySeed: 13);
        var file = RingFile.Read(RingPath);
        using var ring = NonceRing.Open(RingPath, 1024, Start);
        const int Chains = 20, PerChain = 24;
        var chains = new byte[Chains][][];
        var byHome = file.ByHome(60_000, "chain-");
        for (var c = 0; c < Chains; c++)
        {
            Assert.True(byHome[c * 48].Count >= PerChain, $"only {byHome[c * 48].Count} candidates for slot {c * 48}");
            chains[c] = [.. byHome[c * 48].Take(PerChain).Select(n => Encoding.UTF8.GetBytes(n))];
        }

        var added = new int[Chains, PerChain];
        var full = 0;

        RunTogether(t =>
        {
            var order = Enumerable.Range(0, PerChain).ToArray();
            var random = new Random(77 + t);
            for (var c = 0; c < Chains; c++)
            {
                random.Shuffle(order);
                foreach (var n in order)
                {
                    var result = ring.TryAdd(chains[c][n], Now + 60, Now);
                    if (result == NonceResult.Added)
                    {
                        Interlocked.Increment(ref added[c, n]);
                    }
                    else if (result == NonceResult.Full)
                    {
                        Interlocked.Increment(ref full);
                    }
                }
            }
        });

        for (var c = 0; c < Chains; c++)
        {
            for (var n = 0; n < PerChain; n++)
            {
                Assert.True(added[c, n] == 1, $"chain {c} nonce {n} added {added[c, n]} times");
            }
        }

        Assert.Equal(0, full);
    }

    [Fact]
    public void TryAdd_RaceWhileTheClockFreesASlot_NeverAddedTwice()
    {
        // Slot h holds an entry that is, at second e+4, expired but inside the reuse grace and, at
        // e+5, reusable. Two inserts of one nonce race, one reading e+4 (skips h, claims h+1) and
        // one reading e+5 (claims h). With the earlier lower-position-only re-scan and tombstones,
        // both were told Added in about 10 % of these races on a 2-core machine (422 of 4,096).
        RingFile.Create(RingPath, 1024, Start, keySeed: 14);
        var pristine = File.ReadAllBytes(RingPath);
        var file = RingFile.Read(RingPath);
        const int Chains = 512, Rounds = 8;
        var fillers = new byte[Chains][];
        var racers = new byte[Rounds, Chains][];
        var byHome = file.ByHome(40_000, "b");
        for (var c = 0; c < Chains; c++)
        {
            var found = byHome[c * 2];
            Assert.True(found.Count > Rounds, $"only {found.Count} candidates for slot {c * 2}");
            fillers[c] = Encoding.UTF8.GetBytes(found[0]);
            for (var r = 0; r < Rounds; r++)
            {
                racers[r, c] = Encoding.UTF8.GetBytes(found[r + 1]);
            }
        }

        var e = Now + 100;
        var twice = 0;
        var neither = 0;
        for (var r = 0; r < Rounds; r++)
        {
            File.WriteAllBytes(RingPath, pristine);
            using var ring = NonceRing.Open(RingPath, 1024, Start);
            var results = new NonceResult[2, Chains];
            var arrived = new int[Chains];
            var round = r;
            var threads = new Thread[2];
            for (var who = 0; who < 2; who++)
            {
                var me = who;
                threads[who] = new Thread(() =>
                {
                    for (var c = 0; c < Chains; c++)
                    {
                        if (me == 0)
                        {
                            ring.TryAdd(fillers[c], e, e - 50);
                        }

                        // Release both inserts together: a tight spin (the race needs both on a core at
                        // once), yielding now and then so a descheduled partner gets to run.
                        Interlocked.Increment(ref arrived[c]);
                        for (var spins = 1; Volatile.Read(ref arrived[c]) < 2; spins++)
                        {
                            if (spins % 4096 == 0)
                            {
                                Thread.Yield();
                            }
                        }

                        results[me, c] = ring.TryAdd(racers[round, c], e + 1000, me == 0 ? e + NonceRing.ReuseGraceSeconds : e + NonceRing.ReuseGraceSeconds - 1);
                    }
                });
                threads[who].Start();
            }

            foreach (var thread in threads)
            {
                Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
            }

            for (var c = 0; c < Chains; c++)
            {
                var addedCount = (results[0, c] == NonceResult.Added ? 1 : 0) + (results[1, c] == NonceResult.Added ? 1 : 0);
                twice += addedCount == 2 ? 1 : 0;
                neither += addedCount == 0 ? 1 : 0;
                Assert.NotEqual(NonceResult.Full, results[0, c]);
                Assert.NotEqual(NonceResult.Full, results[1, c]);
            }
        }

        // Both yielding (each saw the other) is the accepted cost: a false rejection of a nonce
        // that was being replayed anyway, never a double acceptance. It is frequent in this
        // deliberately tight race (about 1 in 8 on 2 cores), so it is reported, not bounded.
        Assert.True(twice == 0, $"{twice} of {Chains * Rounds} races told both inserts Added ({neither} told neither)");
    }
}
