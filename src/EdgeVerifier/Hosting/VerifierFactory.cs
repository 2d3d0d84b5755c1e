using EdgeVerifier.Configuration;
using EdgeVerifier.Diagnostics;
using EdgeVerifier.Keys;
using EdgeVerifier.Keys.Remote;
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
                o.ClaimHeaders)
            {
                CaptureJti = o.OneTimeTokens,
            },
        };
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
