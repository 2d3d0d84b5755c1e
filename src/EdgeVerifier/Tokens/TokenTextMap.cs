using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Entries by exact whole-token text (never by a hash, so no collision can alias two tokens;
/// non-canonical base64url is refused earlier, so one token has one text), looked up by span
/// without copying. Bounded: at most <c>maxEntries</c>; when full, entries <c>isDead</c> names go
/// first, then arbitrary ones until the map is at 90 %. One thread trims at a time; an add that
/// meets a full map while another thread trims is skipped rather than overshoot the bound.
/// Once the map has met its bound it admits only one new entry in <see cref="AdmitOneIn"/> until it
/// is under 80 % again (dead entries trimmed, entries removed): a working set larger than the bound would
/// otherwise turn nearly every miss into an eviction plus a long-lived allocation (churn that grows
/// the GC's older generations) for almost no hits; sampled, the resident set turns over 8× slower,
/// keeps serving hits, and a token that keeps coming still gets in after a few requests.
/// </summary>
internal sealed class TokenTextMap<TEntry>
    where TEntry : class
{
    /// <summary>While saturated, one add in this many is admitted.</summary>
    public const int AdmitOneIn = 8;

    private readonly ConcurrentDictionary<string, TEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TEntry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly int _maxEntries;
    private readonly int _roomAgain;
    private readonly Func<TEntry, double, bool>? _isDead;

    // Entries, kept alongside the dictionary: its own Count takes every lock, and adds read this one.
    private int _count;
    private int _trimming;
    private int _saturated;
    private int _declined;

    public TokenTextMap(int maxEntries, Func<TEntry, double, bool>? isDead = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _maxEntries = maxEntries;
        _roomAgain = maxEntries - Math.Max(1, maxEntries / 5);
        _isDead = isDead;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<char> token, [NotNullWhen(true)] out TEntry? entry) => _bySpan.TryGetValue(token, out entry);

    /// <summary>Removes the entry for this token if it is still <paramref name="entry"/> (not one another thread has put since).</summary>
    public void Remove(ReadOnlySpan<char> token, TEntry entry)
    {
        if (_bySpan.TryGetValue(token, out var key, out var current) && ReferenceEquals(current, entry)
            && _entries.TryRemove(new KeyValuePair<string, TEntry>(key, current)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    public void Add(ReadOnlySpan<char> token, TEntry entry, double now)
    {
        if (Volatile.Read(ref _saturated) != 0)
        {
            if (Volatile.Read(ref _count) < _roomAgain)
            {
                Volatile.Write(ref _saturated, 0); // room again: admit freely
            }
            else if (Interlocked.Increment(ref _declined) % AdmitOneIn != 0)
            {
                return;
            }
        }

        if (Volatile.Read(ref _count) >= _maxEntries)
        {
            Volatile.Write(ref _saturated, 1);
            Trim(now);
            if (Volatile.Read(ref _count) >= _maxEntries)
            {
                return; // another thread is trimming: skip this one rather than overshoot
            }
        }

        var key = token.ToString();
        if (_entries.TryAdd(key, entry))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _entries[key] = entry;
        }
    }

    public void Clear()
    {
        foreach (var (token, _) in _entries)
        {
            if (_entries.TryRemove(token, out _))
            {
                Interlocked.Decrement(ref _count);
            }
        }

        Volatile.Write(ref _saturated, 0);
    }

    private void Trim(double now)
    {
        if (Interlocked.Exchange(ref _trimming, 1) != 0)
        {
            return;
        }

        try
        {
            if (_isDead is not null)
            {
                foreach (var (token, entry) in _entries)
                {
                    if (_isDead(entry, now) && _entries.TryRemove(token, out _))
                    {
                        Interlocked.Decrement(ref _count);
                    }
                }
            }

            if (Volatile.Read(ref _count) < _roomAgain)
            {
                Volatile.Write(ref _saturated, 0); // room again (dead entries went): admit freely
                return;
            }

            var target = _maxEntries - Math.Max(1, _maxEntries / 10);
            foreach (var (token, _) in _entries)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                if (_entries.TryRemove(token, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}
