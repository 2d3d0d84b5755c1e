using System.Collections.Concurrent;
using EdgeVerifier.Diagnostics;

namespace EdgeVerifier.Keys;

/// <summary>
/// Keys read on demand from <c>{directory}/{kid}.jwk</c> (DESIGN.md step 5).
/// </summary>
/// <remarks>
/// Freshness: a file-system watcher drops a cached key the moment its file changes or goes;
/// as a backstop (watchers can miss events or be unavailable), every cached answer, positive
/// or negative, is re-read from disk once it is older than the recheck interval. So a new key
/// file is usable, and a deleted one refused, within the recheck interval (default 5 s) plus
/// one file read. A stale positive answer keeps serving while its re-read runs.
/// </remarks>
public sealed class DirectoryKeySource : IKeySource
{
    /// <summary>Cap on remembered unknown kids, so a flood of random kids cannot grow memory.</summary>
    public const int MaxNegativeEntries = 10_000;

    private readonly string _directory;
    private readonly KeyFileLoader _loader;
    private readonly TimeProvider _time;
    private readonly long _recheckTicks;
    private readonly int _minRsaBits;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly ConcurrentDictionary<string, Task<KeyLookup>> _inFlight = new(StringComparer.Ordinal);
    private readonly FileSystemWatcher? _watcher;
    private int _negativeCount;
    private long _version; // bumped by every watcher event: a load that raced one is not cached

    public DirectoryKeySource(string directory, KeyFileLoader loader, TimeProvider time, TimeSpan recheck, int minRsaBits, ILogger logger)
    {
        _directory = Path.GetFullPath(directory);
        _loader = loader;
        _time = time;
        _recheckTicks = (long)(recheck.TotalSeconds * time.TimestampFrequency);
        _minRsaBits = minRsaBits;
        _logger = logger;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
        Name = "dir:" + _directory;
        try
        {
            _watcher = new FileSystemWatcher(_directory, "*.jwk") { IncludeSubdirectories = false };
            _watcher.Created += OnChanged;
            _watcher.Changed += OnChanged;
            _watcher.Deleted += OnChanged;
            _watcher.Renamed += OnRenamed;
            _watcher.Error += OnError;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            Log.WatcherFailed(logger, _directory, e.Message, recheck.TotalSeconds);
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    public string Name { get; }

    public SourceReadiness Readiness =>
        Directory.Exists(_directory) ? new(true, Name) : new(false, Name + ": directory is missing");

    public KeyLookup GetDefault() => KeyLookup.NotFound;

    public KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        if (!_bySpan.TryGetValue(kid, out var entry))
        {
            return KeyLookup.Miss;
        }

        var fresh = _time.GetTimestamp() - entry.CheckedAt < _recheckTicks;
        if (entry.Key is { } key)
        {
            if (!fresh && Interlocked.Exchange(ref entry.Refreshing, 1) == 0)
            {
                _ = LoadShared(entry.Kid);
            }

            return KeyLookup.Found(key);
        }

        return fresh ? KeyLookup.NotFound : KeyLookup.Miss;
    }

    public ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken)
    {
        var cached = TryGetCached(kid);
        if (cached.Status != KeyLookupStatus.Miss)
        {
            return new(cached);
        }

        // The shared load runs to completion whatever this caller's cancellation does.
        return new(LoadShared(kid).WaitAsync(cancellationToken));
    }

    private Task<KeyLookup> LoadShared(string kid)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(kid, out var running))
            {
                return running;
            }

            var done = new TaskCompletionSource<KeyLookup>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(kid, done.Task))
            {
                _ = LoadAsync(kid, done);
                return done.Task;
            }
        }
    }

    private async Task LoadAsync(string kid, TaskCompletionSource<KeyLookup> done)
    {
        var result = KeyLookup.Unavailable;
        try
        {
            var path = Path.Join(_directory, kid + ".jwk");
            var version = Volatile.Read(ref _version);
            var read = await _loader.ReadAsync(path).ConfigureAwait(false);
            _entries.TryGetValue(kid, out var previous);
            result = read.Status switch
            {
                FileReadStatus.Ok => Accept(kid, path, read.Content!, previous, version),
                FileReadStatus.Missing => Forget(kid, previous, version),
                FileReadStatus.TooLarge => Refuse(kid, path, read.Error!, previous, version),
                _ => KeepOnError(path, read.Error, previous),
            };
        }
        finally
        {
            _inFlight.TryRemove(kid, out _);
            done.TrySetResult(result);
        }
    }

    private KeyLookup Accept(string kid, string path, byte[] content, Entry? previous, long version)
    {
        if (previous?.Key is not null && previous.Content.AsSpan().SequenceEqual(content))
        {
            // Unchanged: keep the same key instance, just renew it.
            previous.CheckedAt = _time.GetTimestamp();
            Volatile.Write(ref previous.Refreshing, 0);
            return KeyLookup.Found(previous.Key);
        }

        var parsed = JwkReader.Parse(content, _minRsaBits);
        if (!parsed.Ok || parsed.Keys!.Length != 1)
        {
            return Refuse(kid, path, parsed.Error ?? "a key file must hold exactly one key", previous, version);
        }

        var key = parsed.Keys[0];
        if (key.Kid is not null && !string.Equals(key.Kid, kid, StringComparison.Ordinal))
        {
            key.Dispose();
            return Refuse(kid, path, $"the key's own kid '{key.Kid}' differs from its file name", previous, version);
        }

        Store(kid, new Entry(kid, key, content, _time.GetTimestamp()), previous, version);
        Log.KeyLoaded(_logger, kid, Name);
        return KeyLookup.Found(key);
    }

    private KeyLookup Refuse(string kid, string path, string reason, Entry? previous, long version)
    {
        Log.KeyFileInvalid(_logger, path, reason);
        return Forget(kid, previous, version);
    }

    private KeyLookup Forget(string kid, Entry? previous, long version)
    {
        if (previous?.Key is not null)
        {
            Log.KeyRemoved(_logger, kid, Name);
        }

        // Replaced keys are not disposed: a request may still be verifying with one. The GC reclaims them.
        Store(kid, new Entry(kid, null, [], _time.GetTimestamp()), previous, version);
        return KeyLookup.NotFound;
    }

    private KeyLookup KeepOnError(string path, string? reason, Entry? previous)
    {
        Log.KeyFileReadFailed(_logger, path, reason);
        if (previous is not null)
        {
            Volatile.Write(ref previous.Refreshing, 0);
        }

        // An unreadable file is not proof the key is gone: a key we hold keeps serving, else 503.
        return previous?.Key is { } key ? KeyLookup.Found(key) : KeyLookup.Unavailable;
    }

    private void Store(string kid, Entry entry, Entry? previous, long version)
    {
        if (Volatile.Read(ref _version) != version)
        {
            return; // the directory changed while this file was read: the next lookup reads it again
        }

        var negative = entry.Key is null;
        var wasNegative = previous is not null && previous.Key is null;
        if (negative && !wasNegative && Volatile.Read(ref _negativeCount) >= MaxNegativeEntries)
        {
            _entries.TryRemove(kid, out _);
            return;
        }

        _entries[kid] = entry;
        if (negative != wasNegative)
        {
            Interlocked.Add(ref _negativeCount, negative ? 1 : -1);
        }
    }

    private void Drop(string kid)
    {
        Interlocked.Increment(ref _version);
        if (_entries.TryRemove(kid, out var removed) && removed.Key is null)
        {
            Interlocked.Decrement(ref _negativeCount);
        }
    }

    private void OnChanged(object sender, FileSystemEventArgs e) => Drop(Path.GetFileNameWithoutExtension(e.Name ?? string.Empty));

    private void OnRenamed(object sender, RenamedEventArgs e)
    {
        Drop(Path.GetFileNameWithoutExtension(e.OldName ?? string.Empty));
        Drop(Path.GetFileNameWithoutExtension(e.Name ?? string.Empty));
    }

    private void OnError(object sender, ErrorEventArgs e)
    {
        // Events were lost: nothing cached can be trusted to be current.
        Interlocked.Increment(ref _version);
        _entries.Clear();
        Volatile.Write(ref _negativeCount, 0);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
    }

    private sealed class Entry(string kid, VerificationKey? key, byte[] content, long checkedAt)
    {
        public readonly string Kid = kid;
        public readonly VerificationKey? Key = key;
        public readonly byte[] Content = content;
        public long CheckedAt = checkedAt;
        public int Refreshing;
    }
}
