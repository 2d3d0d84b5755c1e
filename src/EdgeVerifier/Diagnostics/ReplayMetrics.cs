using System.Diagnostics.Metrics;
using EdgeVerifier.Replay;

namespace EdgeVerifier.Diagnostics;

/// <summary>Replay-protection instruments (meter <c>EdgeVerifier</c>).</summary>
public static class ReplayMetrics
{
    private static readonly Meter Meter = new("EdgeVerifier", "1.0");

    private static readonly Counter<long> Proofs = Meter.CreateCounter<long>("edgeverifier.dpop.proofs", "{proof}", "DPoP proofs by outcome (ok, or the failure)");

    private static readonly Counter<long> Full = Meter.CreateCounter<long>("edgeverifier.replay.ring_full", "{request}", "Requests refused because the nonce ring had no free slot");

    private static readonly Counter<long> Skew = Meter.CreateCounter<long>("edgeverifier.dpop.clock_skew_warnings", "{proof}", "Proofs whose iat was further from the server clock than the warning threshold");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<NonceRing, byte> Rings = new();

    private static readonly ObservableGauge<double> Fill = Meter.CreateObservableGauge(
        "edgeverifier.replay.ring_fill", ObserveFill, "1", "Live entries of the nonce ring as a fraction of its capacity");

    public static void Dpop(DpopFailure failure)
    {
        if (Proofs.Enabled)
        {
            Proofs.Add(1, new KeyValuePair<string, object?>("outcome", failure == DpopFailure.None ? "ok" : failure.ToString().ToLowerInvariant()));
        }
    }

    public static void RingFull() => Full.Add(1);

    public static void ClockSkewWarning() => Skew.Add(1);

    /// <summary>Reports the ring's fill through the gauge until the handle is disposed.</summary>
    public static IDisposable Observe(NonceRing ring, TimeProvider time)
    {
        Rings[ring] = 0;
        Times[ring] = time;
        return new Unregister(ring);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<NonceRing, TimeProvider> Times = new();

    private static IEnumerable<Measurement<double>> ObserveFill()
    {
        foreach (var (ring, _) in Rings)
        {
            var now = Times.TryGetValue(ring, out var time) ? time.GetUtcNow().ToUnixTimeSeconds() : 0;
            yield return new Measurement<double>((double)ring.CountLive(now) / ring.Capacity, new KeyValuePair<string, object?>("path", ring.Path));
        }
    }

    private sealed class Unregister(NonceRing ring) : IDisposable
    {
        public void Dispose()
        {
            Rings.TryRemove(ring, out _);
            Times.TryRemove(ring, out _);
        }
    }
}
