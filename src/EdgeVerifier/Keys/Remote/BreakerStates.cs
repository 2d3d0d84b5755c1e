using System.Collections.Concurrent;

namespace EdgeVerifier.Keys.Remote;

/// <summary>Circuit-breaker state per upstream authority (host:port), for <c>/readyz</c>, metrics and logs.</summary>
public sealed class BreakerStates
{
    private readonly ConcurrentDictionary<string, string> _states = new(StringComparer.OrdinalIgnoreCase);

    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";

    public void Set(string authority, string state) => _states[authority] = state;

    /// <summary>The state of <paramref name="authority"/>; closed when it has never changed.</summary>
    public string Get(string authority) => _states.TryGetValue(authority, out var state) ? state : Closed;

    public IReadOnlyDictionary<string, string> Snapshot() => new Dictionary<string, string>(_states, StringComparer.OrdinalIgnoreCase);
}
