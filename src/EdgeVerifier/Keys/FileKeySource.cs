using EdgeVerifier.Diagnostics;

namespace EdgeVerifier.Keys;

/// <summary>
/// One file holding a JWK or a JWK Set (JSON or base64url JSON). A file with a single key
/// verifies tokens without a kid; a key with its own kid only matches that kid.
/// </summary>
/// <remarks>
/// The file is read at start-up (an unreadable or invalid file stops start-up) and re-read
/// when a watcher sees it change, or at the latest after the recheck interval. A file that
/// disappears or turns invalid while serving leaves no keys: every token is refused (fail closed).
/// </remarks>
public sealed class FileKeySource : IKeySource
{
    private readonly string _path;
    private readonly KeyFileLoader _loader;
    private readonly TimeProvider _time;
    private readonly long _recheckTicks;
    private readonly int _minRsaBits;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher? _watcher;
    private Snapshot _snapshot;
    private long _checkedAt;
    private int _refreshing;
    private int _dirty;

    private FileKeySource(string path, KeyFileLoader loader, TimeProvider time, TimeSpan recheck, int minRsaBits, ILogger logger, Snapshot snapshot)
    {
        _path = path;
        _loader = loader;
        _time = time;
        _recheckTicks = (long)(recheck.TotalSeconds * time.TimestampFrequency);
        _minRsaBits = minRsaBits;
        _logger = logger;
        _snapshot = snapshot;
        _checkedAt = time.GetTimestamp();
        Name = "file:" + path;
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path));
            _watcher.Changed += OnChanged;
            _watcher.Created += OnChanged;
            _watcher.Deleted += OnChanged;
            _watcher.Renamed += OnChanged;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            Log.WatcherFailed(logger, path, e.Message, recheck.TotalSeconds);
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>Loads the file now; returns null and the reason when it cannot be used.</summary>
    public static FileKeySource? Open(string path, KeyFileLoader loader, TimeProvider time, TimeSpan recheck, int minRsaBits, ILogger logger, out string? error)
    {
        var full = Path.GetFullPath(path);
        var snapshot = Load(KeyFileLoader.Read(full), minRsaBits, out error);
        if (snapshot is null)
        {
            return null;
        }

        Log.KeySetLoaded(logger, "file:" + full, snapshot.Count);
        return new FileKeySource(full, loader, time, recheck, minRsaBits, logger, snapshot);
    }

    public string Name { get; }

    public SourceReadiness Readiness => Volatile.Read(ref _snapshot).Count > 0
        ? new(true, Name)
        : new(false, Name + ": no usable key in the file");

    public KeyLookup TryGetCached(ReadOnlySpan<char> kid)
    {
        var snapshot = Current();
        if (snapshot.ByKid.TryGetValue(kid, out var key))
        {
            return KeyLookup.Found(key);
        }

        // A kid-less key stands for whatever kid the token names.
        return snapshot.Default is { Kid: null } only ? KeyLookup.Found(only) : KeyLookup.NotFound;
    }

    public ValueTask<KeyLookup> ResolveAsync(string kid, CancellationToken cancellationToken) => new(TryGetCached(kid));

    public KeyLookup GetDefault() =>
        Current().Default is { } key ? KeyLookup.Found(key) : KeyLookup.NotFound;

    private Snapshot Current()
    {
        if (_time.GetTimestamp() - Volatile.Read(ref _checkedAt) >= _recheckTicks)
        {
            Reload();
        }

        return Volatile.Read(ref _snapshot);
    }

    private void Reload()
    {
        if (Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = ReloadAsync();
        }
        else
        {
            // A change during a reload (e.g. a file rewritten in place): read it again afterwards.
            Volatile.Write(ref _dirty, 1);
        }
    }

    private async Task ReloadAsync()
    {
        try
        {
            var read = await _loader.ReadAsync(_path).ConfigureAwait(false);
            var current = Volatile.Read(ref _snapshot);
            if (read.Status == FileReadStatus.Ok && current.Content.AsSpan().SequenceEqual(read.Content))
            {
                return;
            }

            var next = Load(read, _minRsaBits, out var error);
            if (next is null)
            {
                Log.KeyFileInvalid(_logger, _path, error!);
                next = Snapshot.Empty;
            }
            else
            {
                Log.KeySetLoaded(_logger, Name, next.Count);
            }

            Volatile.Write(ref _snapshot, next);
        }
        finally
        {
            Volatile.Write(ref _checkedAt, _time.GetTimestamp());
            Volatile.Write(ref _refreshing, 0);
            if (Interlocked.Exchange(ref _dirty, 0) == 1)
            {
                Reload();
            }
        }
    }

    private void OnChanged(object sender, FileSystemEventArgs e) => Reload();

    private static Snapshot? Load(FileReadResult read, int minRsaBits, out string? error)
    {
        switch (read.Status)
        {
            case FileReadStatus.Missing:
                error = "the file does not exist";
                return null;
            case FileReadStatus.Ok:
                break;
            default:
                error = read.Error;
                return null;
        }

        var parsed = JwkReader.Parse(read.Content!, minRsaBits);
        if (!parsed.Ok)
        {
            error = parsed.Error;
            return null;
        }

        if (parsed.Keys!.Length == 0)
        {
            error = "the file holds no key";
            return null;
        }

        var byKid = new Dictionary<string, VerificationKey>(StringComparer.Ordinal);
        foreach (var key in parsed.Keys)
        {
            if (key.Kid is not null && !byKid.TryAdd(key.Kid, key))
            {
                error = $"kid '{key.Kid}' appears twice";
                return null;
            }
        }

        error = null;
        return new Snapshot(byKid, parsed.Keys.Length == 1 ? parsed.Keys[0] : null, parsed.Keys.Length, read.Content!);
    }

    public void Dispose() => _watcher?.Dispose();

    private sealed class Snapshot(Dictionary<string, VerificationKey> byKid, VerificationKey? defaultKey, int count, byte[] content)
    {
        public static readonly Snapshot Empty = new(new(StringComparer.Ordinal), null, 0, []);

        public readonly Dictionary<string, VerificationKey>.AlternateLookup<ReadOnlySpan<char>> ByKid = byKid.GetAlternateLookup<ReadOnlySpan<char>>();
        public readonly VerificationKey? Default = defaultKey;
        public readonly int Count = count;
        public readonly byte[] Content = content;
    }
}
