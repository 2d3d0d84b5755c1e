using System.Diagnostics.Metrics;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Sums the measurements of the <c>EdgeVerifier</c> meter's counters while alive. The meter is
/// process-wide and tests run in parallel, so assert "at least", never "exactly", on counts
/// other tests may also move.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "EdgeVerifier")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    key += ":" + tag.Value;
                }
            }

            lock (_totals)
            {
                _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
                if (key != instrument.Name)
                {
                    _totals[key] = _totals.GetValueOrDefault(key) + value;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The sum for an instrument (<c>edgeverifier.replay.ring_full</c>) or an instrument and outcome (<c>edgeverifier.dpop.proofs:htu</c>).</summary>
    public long Total(string key)
    {
        lock (_totals)
        {
            return _totals.GetValueOrDefault(key);
        }
    }

    public void Dispose() => _listener.Dispose();
}
