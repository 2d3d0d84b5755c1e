using System.Diagnostics.Metrics;
using EdgeVerifier.Replay;

namespace EdgeVerifier.Diagnostics;

/// <summary>Replay-protection instruments (meter <c>EdgeVerifier</c>).</summary>
public static class ReplayMetrics
{
    private static readonly Meter Meter = new(EdgeMetrics.MeterName, "1.0");

    private static readonly Counter<long> Proofs = Meter.CreateCounter<long>("edgeverifier.dpop.proofs", "{proof}", "DPoP proofs by outcome (ok, or the failure)");

    private static readonly Counter<long> Full = Meter.CreateCounter<long>("edgeverifier.replay.ring_full", "{request}", "Requests refused because the nonce ring had no free slot");

    private static readonly Counter<long> Skew = Meter.CreateCounter<long>("edgeverifier.dpop.clock_skew_warnings", "{proof}", "Proofs whose iat was further from the server clock than the warning threshold");

    // Each observed ring with the clock its expiries are judged by.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<NonceRing, TimeProvider> Rings = new();

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
        Rings[ring] = time;
        return new Unregister(ring);
    }

    private static IEnumerable<Measurement<double>> ObserveFill()
    {
        foreach (var (ring, time) in Rings)
        {
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            yield return new Measurement<double>((double)ring.CountLive(now) / ring.Capacity, new KeyValuePair<string, object?>("path", ring.Path));
        }
    }

    private sealed class Unregister(NonceRing ring) : IDisposable
    {
        public void Dispose() => Rings.TryRemove(ring, out _);
    }
}
