using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace EdgeVerifier.Tokens;

/// <summary>
/// Entries by exact whole-token text (never by a hash, so no collision can alias two tokens;
/// non-canonical base64url is refused earlier, so one token has one text), looked up by span
/// without copying. Bounded: at most <c>maxEntries</c>; when full, entries <c>isDead</c> names go
/// first, then arbitrary ones until the map is at 90 %. One thread trims at a time; an add that
/// meets a full map while another thread trims is skipped rather than overshoot the bound.
/// </summary>
internal sealed class TokenTextMap<TEntry>
    where TEntry : class
{
    private readonly ConcurrentDictionary<string, TEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TEntry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly int _maxEntries;
    private readonly Func<TEntry, double, bool>? _isDead;
    private int _trimming;

    public TokenTextMap(int maxEntries, Func<TEntry, double, bool>? isDead = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _maxEntries = maxEntries;
        _isDead = isDead;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<char> token, [NotNullWhen(true)] out TEntry? entry) => _bySpan.TryGetValue(token, out entry);

    /// <summary>Removes the entry for this token if it is still <paramref name="entry"/> (not one another thread has put since).</summary>
    public void Remove(ReadOnlySpan<char> token, TEntry entry)
    {
        if (_bySpan.TryGetValue(token, out var key, out var current) && ReferenceEquals(current, entry))
        {
            _entries.TryRemove(new KeyValuePair<string, TEntry>(key, current));
        }
    }

    public void Add(ReadOnlySpan<char> token, TEntry entry, double now)
    {
        if (_entries.Count >= _maxEntries)
        {
            Trim(now);
            if (_entries.Count >= _maxEntries)
            {
                return;
            }
        }

        _entries[token.ToString()] = entry;
    }

    public void Clear() => _entries.Clear();

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
                    if (_isDead(entry, now))
                    {
                        _entries.TryRemove(token, out _);
                    }
                }
            }

            var target = _maxEntries - Math.Max(1, _maxEntries / 10);
            foreach (var (token, _) in _entries)
            {
                if (_entries.Count <= target)
                {
                    break;
                }

                _entries.TryRemove(token, out _);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}
