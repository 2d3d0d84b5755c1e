using System.Text.Json;
using EdgeVerifier.Diagnostics;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Revocation;

/// <summary>What to do with tokens while the list is stale.</summary>
public enum StalePolicy : byte
{
    FailClosed,
    FailOpen,
}

/// <summary>One loaded list: immutable, swapped whole by a refresh.</summary>
internal sealed class RevocationSnapshot(HashSet<string> jtis, HashSet<string> subjects, DateTimeOffset loadedAt, string? etag, DateTime fileStamp, long fileLength)
{
    public static readonly RevocationSnapshot Never = new([], [], DateTimeOffset.MinValue, null, default, -1);

    public HashSet<string> Jtis { get; } = jtis;

    public HashSet<string> Subjects { get; } = subjects;

    /// <summary>Last successful load or renewal (a 304, an unchanged file), on the injected clock.</summary>
    public DateTimeOffset LoadedAt { get; } = loadedAt;

    public string? ETag { get; } = etag;

    public DateTime FileStamp { get; } = fileStamp;

    public long FileLength { get; } = fileLength;

    public bool Loaded => LoadedAt != DateTimeOffset.MinValue;

    public RevocationSnapshot Renewed(DateTimeOffset now, string? etag) => new(Jtis, Subjects, now, etag ?? ETag, FileStamp, FileLength);
}

/// <summary>
/// DESIGN.md step 8: the revocation list, <c>{"jti":[…],"sub":[…]}</c>, fetched from a URL
/// (with <c>If-None-Match</c>; a 304 renews it) or read from a file, in the background every
/// <see cref="RevocationOptions.RefreshSeconds"/> on the injected clock. A failed refresh keeps the
/// last list. <see cref="Check"/> runs on every request after verification — on cached answers
/// too (introspection today, the verified-token cache of step 4 when it lands) — so a revocation
/// takes effect at the next refresh whatever is cached. A list older than
/// <see cref="RevocationOptions.MaxAgeSeconds"/> (or never loaded) is stale: fail-closed refuses
/// every token with 503, fail-open serves against what it has, warns, and counts.
/// </summary>
public sealed class RevocationList : IDisposable
{
    /// <summary>Largest list accepted (URL or file).</summary>
    public const int MaxDocumentBytes = 32 * 1024 * 1024;

    private readonly Uri? _url;
    private readonly string? _path;
    private readonly KeyFetcher? _fetcher;
    private readonly IDisposable? _owned;
    private readonly TimeSpan _refresh;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private volatile RevocationSnapshot _snapshot = RevocationSnapshot.Never;
    private Task? _loop;
    private int _staleWarned;
    private int _attempts;

    internal RevocationList(Uri? url, string? path, KeyFetcher? fetcher, IDisposable? owned, RevocationOptions options, TimeProvider time, ILogger logger)
    {
        _url = url;
        _path = path;
        _fetcher = fetcher;
        _owned = owned;
        _refresh = TimeSpan.FromSeconds(options.RefreshSeconds);
        _maxAge = TimeSpan.FromSeconds(options.MaxAgeSeconds);
        Policy = string.Equals(options.StalePolicy, RevocationOptions.FailOpen, StringComparison.OrdinalIgnoreCase) ? StalePolicy.FailOpen : StalePolicy.FailClosed;
        Source = url?.GetLeftPart(UriPartial.Path) ?? path!;
        _time = time;
        _logger = logger;
    }

    public StalePolicy Policy { get; }

    /// <summary>The URL (without query) or the file, for logs and <c>/readyz</c>.</summary>
    public string Source { get; }

    /// <summary>Refresh attempts finished so far, successful or not (tests wait on it).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public int JtiCount => _snapshot.Jtis.Count;

    public int SubjectCount => _snapshot.Subjects.Count;

    /// <summary>Whether the list is past its maximum age (or was never loaded), on the injected clock.</summary>
    public bool IsStale => IsStaleAt(_snapshot, _time.GetUtcNow());

    /// <summary>Ready unless stale under fail-closed (then every token is refused anyway).</summary>
    public (bool Ready, string Detail) Readiness
    {
        get
        {
            var snapshot = _snapshot;
            var now = _time.GetUtcNow();
            var stale = IsStaleAt(snapshot, now);
            var age = snapshot.Loaded ? $"loaded {(now - snapshot.LoadedAt).TotalSeconds:0} s ago" : "never loaded";
            var detail = $"revocation list {Source}: {snapshot.Jtis.Count} jti, {snapshot.Subjects.Count} sub, {age}{(stale ? $", stale ({(Policy == StalePolicy.FailOpen ? "fail-open" : "fail-closed")})" : "")}";
            return (!stale || Policy == StalePolicy.FailOpen, detail);
        }
    }

    private bool IsStaleAt(RevocationSnapshot snapshot, DateTimeOffset now) => !snapshot.Loaded || now - snapshot.LoadedAt > _maxAge;

    /// <summary>
    /// The revocation verdict for a verified token: <see cref="VerifyError.Revoked"/> when its
    /// <c>jti</c> or <c>sub</c> is listed, <see cref="VerifyError.RevocationListStale"/> when the
    /// list is stale under fail-closed, else <see cref="VerifyError.None"/>. No allocation.
    /// </summary>
    public VerifyError Check(VerifiedToken token)
    {
        var snapshot = _snapshot;
        if (IsStaleAt(snapshot, _time.GetUtcNow()))
        {
            if (Policy == StalePolicy.FailClosed)
            {
                return VerifyError.RevocationListStale;
            }

            EdgeMetrics.RevocationStaleServed();
            if (Interlocked.Exchange(ref _staleWarned, 1) == 0)
            {
                Log.RevocationListStaleServing(_logger, Source, snapshot.Loaded ? (_time.GetUtcNow() - snapshot.LoadedAt).TotalSeconds : double.PositiveInfinity);
            }
        }

        if ((token.Jti is { } jti && snapshot.Jtis.Contains(jti))
            || (token.Subject is { } subject && snapshot.Subjects.Contains(subject)))
        {
            return VerifyError.Revoked;
        }

        return VerifyError.None;
    }

    /// <summary>Starts the background refresh: a first attempt now, then one every <c>RefreshSeconds</c>.</summary>
    public void Start() => _loop ??= Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            // A fixed rate, measured from the start of each attempt: the timer exists before the attempt
            // is counted, so whoever moves the clock after seeing the count also moves this timer.
            var next = Task.Delay(_refresh, _time, stopping);
            await RefreshOnceAsync(stopping).ConfigureAwait(false);
            try
            {
                await next.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One refresh attempt; a failure keeps the last list and is logged.</summary>
    internal async Task RefreshOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var error = _url is not null
                ? await FetchAsync(_url, cancellationToken).ConfigureAwait(false)
                : await ReadFileAsync(_path!, cancellationToken).ConfigureAwait(false);
            EdgeMetrics.RevocationRefresh(error is null ? "ok" : "failed");
            if (error is not null && !cancellationToken.IsCancellationRequested)
            {
                Log.RevocationRefreshFailed(_logger, Source, error);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.RevocationRefreshFailed(_logger, Source, e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            Interlocked.Increment(ref _attempts);
        }
    }

    private async Task<string?> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        var current = _snapshot;
        var result = await _fetcher!.GetAsync(url, current.ETag, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        switch (result.Status)
        {
            case FetchStatus.NotModified when current.Loaded:
                Publish(current.Renewed(now, result.ETag), changed: false);
                return null;
            case FetchStatus.NotModified:
                return "304 Not Modified without a loaded list";
            case FetchStatus.Ok:
                if (!TryParse(result.Body!, out var jtis, out var subjects, out var error))
                {
                    return error;
                }

                Publish(new RevocationSnapshot(jtis, subjects, now, result.ETag, default, -1), changed: true);
                return null;
            case FetchStatus.NotFound:
                return "HTTP 404";
            default:
                return result.Error ?? "fetch failed";
        }
    }

    private async Task<string?> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        var current = _snapshot;
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return "the file does not exist";
        }

        if (info.Length > MaxDocumentBytes)
        {
            return $"larger than {MaxDocumentBytes} bytes";
        }

        var now = _time.GetUtcNow();
        if (current.Loaded && info.LastWriteTimeUtc == current.FileStamp && info.Length == current.FileLength)
        {
            Publish(current.Renewed(now, null), changed: false); // unchanged and readable: still the authoritative list
            return null;
        }

        byte[] body;
        try
        {
            body = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }

        if (!TryParse(body, out var jtis, out var subjects, out var error))
        {
            return error;
        }

        Publish(new RevocationSnapshot(jtis, subjects, now, null, info.LastWriteTimeUtc, info.Length), changed: true);
        return null;
    }

    private void Publish(RevocationSnapshot snapshot, bool changed)
    {
        var wasStale = IsStale;
        _snapshot = snapshot;
        Volatile.Write(ref _staleWarned, 0);
        if (changed)
        {
            Log.RevocationListLoaded(_logger, Source, snapshot.Jtis.Count, snapshot.Subjects.Count);
        }
        else if (wasStale)
        {
            Log.RevocationListLoaded(_logger, Source, snapshot.Jtis.Count, snapshot.Subjects.Count);
        }
    }

    /// <summary>Reads <c>{"jti":[…],"sub":[…]}</c> (both optional, strings only; other members ignored).</summary>
    internal static bool TryParse(ReadOnlySpan<byte> json, out HashSet<string> jtis, out HashSet<string> subjects, out string? error)
    {
        jtis = new HashSet<string>(StringComparer.Ordinal);
        subjects = new HashSet<string>(StringComparer.Ordinal);
        error = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object";
                return false;
            }

            var seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var which = reader.ValueTextEquals("jti"u8) ? 1 : reader.ValueTextEquals("sub"u8) ? 2 : 0;
                reader.Read();
                if (which == 0)
                {
                    reader.Skip();
                    continue;
                }

                if ((seen & which) != 0)
                {
                    error = $"'{(which == 1 ? "jti" : "sub")}' appears twice";
                    return false;
                }

                seen |= which;
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"'{(which == 1 ? "jti" : "sub")}' is not an array";
                    return false;
                }

                var set = which == 1 ? jtis : subjects;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = $"'{(which == 1 ? "jti" : "sub")}' holds something other than strings";
                        return false;
                    }

                    set.Add(reader.GetString()!);
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "not a single JSON object";
                return false;
            }
        }
        catch (JsonException e)
        {
            error = $"not valid JSON (byte {e.BytePositionInLine + 1} of line {e.LineNumber + 1})";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "not valid UTF-8";
            return false;
        }

        return true;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _owned?.Dispose();
        _stopping.Dispose();
    }
}
