using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeVerifier.Keys;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A real key registry: Kestrel on 127.0.0.1 (ephemeral port) serving <c>/keys/{kid}.jwk</c>,
/// <c>/jwks.json</c> and <c>/.well-known/openid-configuration</c> from mutable in-memory
/// documents, with switches for failures (status, delay, closed connections), caching headers
/// (<c>Cache-Control</c>, <c>ETag</c> / <c>If-None-Match</c> → 304) and thread-safe per-path
/// request counters. Every request is stamped with the test's fake clock when one is set.
/// </summary>
public sealed class KeyServer : FaultyUpstream
{
    public const string JwksPath = "/jwks.json";
    public const string DiscoveryPath = "/.well-known/openid-configuration";

    private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _statusByPath = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _started = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Hit> _hits = new();
    private volatile string? _cacheControl;
    private volatile bool _etags;

    private KeyServer()
    {
    }

    /// <summary>One request as the registry saw it.</summary>
    public readonly record struct Hit(string Path, string? IfNoneMatch, int Status, DateTimeOffset? At);

    /// <summary><c>http://127.0.0.1:port/</c> (or https when started with a certificate).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The base-URL source: <c>{BaseAddress}keys/</c>.</summary>
    public string KeysUrl => BaseAddress + "keys/";

    public string JwksUrl => BaseAddress.AbsoluteUri.TrimEnd('/') + JwksPath;

    /// <summary>The issuer for OIDC discovery (no trailing slash).</summary>
    public string Issuer => BaseAddress.AbsoluteUri.TrimEnd('/');

    /// <summary><c>Cache-Control</c> on 200 and 304 answers (null = none).</summary>
    public string? CacheControl
    {
        get => _cacheControl;
        set => _cacheControl = value;
    }

    /// <summary>Send an <c>ETag</c> (a hash of the document) and answer a matching <c>If-None-Match</c> with 304.</summary>
    public bool ETags
    {
        get => _etags;
        set => _etags = value;
    }

    /// <summary>What <c>jwks_uri</c> the discovery document names; null = <see cref="JwksUrl"/>.</summary>
    public string? DiscoveryJwksUri { get; set; }

    /// <summary>The test's clock: each <see cref="Hit"/> is stamped with it (null: no stamp).</summary>
    public TimeProvider? Clock { get; set; }

    public static async Task<KeyServer> StartAsync(X509Certificate2? certificate = null, X509Certificate2? requiredClient = null)
    {
        var server = new KeyServer();
        var address = await server.ListenAsync(listen =>
        {
            if (certificate is null)
            {
                return;
            }

            listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                if (requiredClient is not null)
                {
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (presented, _, _) =>
                        string.Equals(presented.Thumbprint, requiredClient.Thumbprint, StringComparison.OrdinalIgnoreCase);
                }
            });
        });
        server.BaseAddress = new Uri(address + "/");
        return server;
    }

    /// <summary>Serves <paramref name="body"/> at <paramref name="path"/>.</summary>
    public void Set(string path, string body) => _documents[path] = body;

    public void Remove(string path) => _documents.TryRemove(path, out _);

    public static string KeyPath(string kid) => "/keys/" + kid + ".jwk";

    /// <summary>Publishes the public half of <paramref name="key"/> at <c>/keys/{kid}.jwk</c>.</summary>
    public void PutKey(SigningKey key, string? kid = null) => Set(KeyPath(kid ?? key.Kid!), TestKeys.PublicJson(key));

    public void RemoveKey(string kid) => Remove(KeyPath(kid));

    /// <summary>Publishes a JWK Set of the public halves of <paramref name="keys"/> at <see cref="JwksPath"/>.</summary>
    public void SetJwks(params SigningKey[] keys) => Set(JwksPath, JwksJson(keys));

    public static string JwksJson(params SigningKey[] keys)
    {
        var json = new StringBuilder("{\"keys\":[");
        for (var i = 0; i < keys.Length; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(TestKeys.PublicJson(keys[i]));
        }

        return json.Append("]}").ToString();
    }

    /// <summary>Answers <paramref name="path"/> with <paramref name="status"/> (0 removes the override).</summary>
    public void SetStatus(string path, int status)
    {
        if (status == 0)
        {
            _statusByPath.TryRemove(path, out _);
        }
        else
        {
            _statusByPath[path] = status;
        }
    }

    /// <summary>Requests that reached the handler for <paramref name="path"/> (counted on arrival).</summary>
    public int Count(string path) => _started.TryGetValue(path, out var n) ? n : 0;

    /// <summary>Every request that reached the handler, whatever the path.</summary>
    public int Total
    {
        get
        {
            var total = 0;
            foreach (var (_, n) in _started)
            {
                total += n;
            }

            return total;
        }
    }

    public int InFlight(string path) => _inFlight.TryGetValue(path, out var n) ? n : 0;

    /// <summary>Finished requests, in order of completion.</summary>
    public IReadOnlyList<Hit> Hits => [.. _hits];

    /// <summary>Waits (real time, bounded) until <paramref name="path"/> has been requested <paramref name="count"/> times and those requests finished.</summary>
    public Task WaitForAsync(string path, int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(() => Count(path) >= count && InFlight(path) == 0, () => $"{path}: {Count(path)} request(s) ({InFlight(path)} in flight), expected {count}", timeout);

    /// <summary>Waits (real time, bounded) until <paramref name="path"/> has a request in flight.</summary>
    public Task WaitForInFlightAsync(string path, TimeSpan? timeout = null) =>
        WaitUntilAsync(() => InFlight(path) > 0, () => $"{path}: no request in flight", timeout);

    protected override async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        _started.AddOrUpdate(path, 1, (_, n) => n + 1);
        _inFlight.AddOrUpdate(path, 1, (_, n) => n + 1);
        var status = 0;
        try
        {
            status = await AnswerAsync(context, path);
        }
        finally
        {
            _inFlight.AddOrUpdate(path, 0, (_, n) => n - 1);
            _hits.Enqueue(new Hit(path, context.Request.Headers.IfNoneMatch.Count == 0 ? null : context.Request.Headers.IfNoneMatch.ToString(), status, Clock?.GetUtcNow()));
        }
    }

    private async Task<int> AnswerAsync(HttpContext context, string path)
    {
        if (!await PassFaultsAsync(context))
        {
            return -1;
        }

        var status = _statusByPath.TryGetValue(path, out var forced) ? forced : Status;
        if (status != 0)
        {
            context.Response.StatusCode = status;
            return status;
        }

        string? body;
        if (path == DiscoveryPath && !_documents.ContainsKey(path))
        {
            body = $"{{\"issuer\":\"{Issuer}\",\"jwks_uri\":\"{DiscoveryJwksUri ?? JwksUrl}\"}}";
        }
        else if (!_documents.TryGetValue(path, out body))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return StatusCodes.Status404NotFound;
        }

        if (_cacheControl is { } cacheControl)
        {
            context.Response.Headers.CacheControl = cacheControl;
        }

        if (_etags)
        {
            var tag = "\"" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body)), 0, 8) + "\"";
            context.Response.Headers.ETag = tag;
            if (context.Request.Headers.IfNoneMatch.ToString() == tag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return StatusCodes.Status304NotModified;
            }
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
        return StatusCodes.Status200OK;
    }
}
