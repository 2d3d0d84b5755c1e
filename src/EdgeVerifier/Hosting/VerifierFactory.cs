using EdgeVerifier.Configuration;
using EdgeVerifier.Diagnostics;
using EdgeVerifier.Introspection;
using EdgeVerifier.Keys;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Revocation;
using EdgeVerifier.Tokens;
using ZiggyCreatures.Caching.Fusion;

namespace EdgeVerifier.Hosting;

/// <summary>Turns validated options into the key sources and the verifier (start-up only).</summary>
public static class VerifierFactory
{
    public static VerifierPolicy CreatePolicy(VerifierOptions o)
    {
        var allowed = 0;
        foreach (var name in o.Algorithms)
        {
            allowed |= SigningAlgorithms.Parse(name).Bit();
        }

        return new VerifierPolicy
        {
            MaxTokenLength = o.MaxTokenBytes,
            AllowedAlgorithms = o.Algorithms.Length == 0 ? VerifierPolicy.AllAlgorithms : allowed,
            Types = o.TokenTypes.Length == 0 ? TypPolicy.Default : new TypPolicy(o.TokenTypes),
            Claims = new ClaimsPolicy(
                o.AnyIssuer ? [] : o.Issuers,
                o.AnyAudience ? [] : o.Audiences,
                TimeSpan.FromSeconds(o.ClockSkewSeconds),
                o.RequireExpiration,
                o.RequiredClaims,
                o.ClaimHeaders,
                o.Policy.RequiredScopes,
                string.IsNullOrEmpty(o.Policy.PathScopeClaim) ? null : o.Policy.PathScopeClaim,
                readJti: RevocationConfigured(o) || o.OneTimeTokens),
        };
    }

    public static bool RevocationConfigured(VerifierOptions o) => o.Revocation.Url is not null || o.Revocation.Path is not null;

    /// <summary>
    /// The introspection client for opaque tokens, or null when no endpoint is configured (then
    /// such tokens are refused as malformed). Null and a one-line reason when a setting is unusable.
    /// </summary>
    public static TokenIntrospector? CreateIntrospector(VerifierOptions o, ClaimsPolicy claims, TimeProvider time, ILoggerFactory loggers, out string? error)
    {
        error = null;
        var options = o.Introspection;
        if (options.Endpoints.Length == 0)
        {
            return null;
        }

        HashSet<string>? subjects = null;
        if (options.Subjects.Length > 0 || options.SubjectsFile is not null)
        {
            subjects = new HashSet<string>(options.Subjects, StringComparer.Ordinal);
            if (options.SubjectsFile is { } file)
            {
                try
                {
                    foreach (var line in File.ReadLines(file))
                    {
                        var subject = line.Trim();
                        if (subject.Length > 0 && subject[0] != '#')
                        {
                            subjects.Add(subject);
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error = $"Introspection:SubjectsFile: '{file}': {e.Message}";
                    return null;
                }
            }
        }

        var tls = new KeySourceOptions[options.Endpoints.Length];
        for (var i = 0; i < tls.Length; i++)
        {
            var endpoint = options.Endpoints[i];
            tls[i] = new KeySourceOptions { Keys = endpoint.Url, CaFile = endpoint.CaFile, ClientCertificateFile = endpoint.ClientCertificateFile, ClientKeyFile = endpoint.ClientKeyFile };
        }

        var http = KeyHttpClients.Create(tls, Resilience(options), loggers, out var tlsError, "EdgeVerifier.Introspection.Http");
        if (http is null)
        {
            error = "Introspection:Endpoints: " + tlsError;
            return null;
        }

        var endpoints = new IntrospectionEndpoint[options.Endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var endpoint = options.Endpoints[i];
            endpoints[i] = new IntrospectionEndpoint(endpoint.Prefix!, new Uri(endpoint.Url!), IntrospectionEndpoint.ClientAuthentication(endpoint), http.Get(i));
        }

        return new TokenIntrospector(endpoints, claims, options, subjects, time, loggers.CreateLogger("EdgeVerifier.Introspection"), http);
    }

    /// <summary>Introspection's timing settings in the shape <see cref="KeyHttpClients"/> takes.</summary>
    private static RemoteKeyOptions Resilience(IntrospectionOptions o) => new()
    {
        AttemptTimeoutMs = o.AttemptTimeoutMs,
        TotalTimeoutMs = o.TotalTimeoutMs,
        MaxRetries = o.MaxRetries,
        RetryDelayMs = o.RetryDelayMs,
        BreakerFailureRatio = o.BreakerFailureRatio,
        BreakerMinimumThroughput = o.BreakerMinimumThroughput,
        BreakerSamplingSeconds = o.BreakerSamplingSeconds,
        BreakerBreakSeconds = o.BreakerBreakSeconds,
        AllowHttp = o.AllowHttp,
    };

    /// <summary>The revocation list (not started), or null when none is configured; null and a reason when unusable.</summary>
    public static RevocationList? CreateRevocation(VerifierOptions o, TimeProvider time, ILoggerFactory loggers, out string? error)
    {
        error = null;
        var options = o.Revocation;
        var logger = loggers.CreateLogger("EdgeVerifier.Revocation");
        if (options.Path is { } path)
        {
            return new RevocationList(null, path, null, null, options, time, logger);
        }

        if (options.Url is not { } url)
        {
            return null;
        }

        var tls = new KeySourceOptions { Keys = url, CaFile = options.CaFile, ClientCertificateFile = options.ClientCertificateFile, ClientKeyFile = options.ClientKeyFile };
        var http = KeyHttpClients.Create([tls], o.Remote, loggers, out var tlsError, "EdgeVerifier.Revocation.Http");
        if (http is null)
        {
            error = "Revocation: " + tlsError;
            return null;
        }

        var fetcher = new KeyFetcher(http.Get(0), o.Remote, logger, RevocationList.MaxDocumentBytes, "application/json", logFailures: false);
        return new RevocationList(new Uri(url), null, fetcher, http, options, time, logger);
    }

    /// <summary>
    /// Opens every configured key source (<c>Keys</c>, then <c>KeySources</c> in order); null and a
    /// one-line reason when one cannot be used.
    /// </summary>
    public static KeyResolver? CreateKeys(VerifierOptions o, KeyFileLoader loader, TimeProvider time, ILoggerFactory loggers, out string? error)
    {
        var specs = new List<KeySourceOptions>();
        if (o.Keys is not null)
        {
            specs.Add(new KeySourceOptions { Keys = o.Keys });
        }

        specs.AddRange(o.KeySources);
        var logger = loggers.CreateLogger("EdgeVerifier.Keys");
        var recheck = TimeSpan.FromSeconds(o.KeyRecheckSeconds);
        var sources = new List<IKeySource>();
        var owned = new List<IDisposable>();
        KeyHttpClients? http = null;
        FusionCache? cache = null;
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var path = spec.Keys!;
            var kind = RemoteUrls.Classify(path, out var url);
            if (kind != RemoteUrls.Kind.None)
            {
                if (http is null)
                {
                    http = KeyHttpClients.Create(specs, o.Remote, loggers, out error);
                    if (http is null)
                    {
                        Dispose(sources, owned);
                        return null;
                    }

                    cache = new FusionCache(new FusionCacheOptions { CacheName = "edgeverifier-keys" }, logger: loggers.CreateLogger<FusionCache>());
                    owned.Add(http);
                    owned.Add(cache);
                    owned.Add(EdgeMetrics.ObserveBreakers(http.Breakers));
                }

                var fetcher = new KeyFetcher(http.Get(i), o.Remote, loggers.CreateLogger("EdgeVerifier.Keys.Http"));
                http.Breakers.Set(url!.Authority, BreakerStates.Closed); // reported from the start, not only after a change
                sources.Add(kind switch
                {
                    RemoteUrls.Kind.BaseUrl => new BaseUrlKeySource(url!, cache!, fetcher, http.Breakers, o.Remote, o.MinRsaKeyBits, time, logger),
                    RemoteUrls.Kind.Jwks => JwksKeySource.ForJwks(url!, cache!, fetcher, http.Breakers, o.Remote, o.MinRsaKeyBits, time, logger),
                    _ => JwksKeySource.ForOidc(url!, cache!, fetcher, http.Breakers, o.Remote, o.MinRsaKeyBits, time, logger),
                });
                continue;
            }

            if (Directory.Exists(path))
            {
                sources.Add(new DirectoryKeySource(path, loader, time, recheck, o.MinRsaKeyBits, logger));
                continue;
            }

            var file = FileKeySource.Open(path, loader, time, recheck, o.MinRsaKeyBits, logger, out var reason);
            if (file is null)
            {
                error = $"{(i == 0 && o.Keys is not null ? "Keys" : $"KeySources:{i - (o.Keys is null ? 0 : 1)}:Keys")}: '{path}': {reason}";
                Dispose(sources, owned);
                return null;
            }

            sources.Add(file);
        }

        error = null;
        return new KeyResolver(sources, [.. owned]);
    }

    private static void Dispose(List<IKeySource> sources, List<IDisposable> owned)
    {
        foreach (var source in sources)
        {
            source.Dispose();
        }

        foreach (var item in owned)
        {
            item.Dispose();
        }
    }
}
