using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeVerifier.Diagnostics;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace EdgeVerifier.Keys.Remote;

/// <summary>
/// The outbound HTTP clients of the key sources: one named client per source (its own TLS
/// trust and client certificate), each behind the standard resilience handler with a
/// circuit breaker per upstream authority. Network timing runs on the system clock.
/// </summary>
public sealed class KeyHttpClients : IDisposable
{
    private readonly ServiceProvider _services;

    private KeyHttpClients(ServiceProvider services, BreakerStates breakers)
    {
        _services = services;
        Breakers = breakers;
    }

    /// <summary>The breaker states the resilience callbacks keep up to date.</summary>
    public BreakerStates Breakers { get; }

    public static string ClientName(int index) => "edgeverifier-keys-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Builds the clients; null and a one-line reason when a TLS file cannot be used (fail closed).</summary>
    /// <param name="sources">One client per entry, with that entry's TLS settings.</param>
    /// <param name="options">Timeouts, retries and breaker (introspection and the revocation list map their own settings onto it).</param>
    /// <param name="loggers">For the breaker and handler logs.</param>
    /// <param name="error">Why a TLS file cannot be used.</param>
    /// <param name="category">Log category of the breaker state changes.</param>
    public static KeyHttpClients? Create(IReadOnlyList<KeySourceOptions> sources, RemoteKeyOptions options, ILoggerFactory loggers, out string? error, string category = "EdgeVerifier.Keys.Http")
    {
        var handlers = new SocketsHttpHandler[sources.Count];
        for (var i = 0; i < sources.Count; i++)
        {
            var handler = CreateHandler(sources[i], options, out error);
            if (handler is null)
            {
                return null;
            }

            handlers[i] = handler;
        }

        var services = new ServiceCollection();
        services.AddSingleton(loggers);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        var breakers = new BreakerStates();
        var logger = loggers.CreateLogger(category);
        for (var i = 0; i < sources.Count; i++)
        {
            var handler = handlers[i];
            services.AddHttpClient(ClientName(i), client =>
                {
                    client.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
                    client.MaxResponseContentBufferSize = JwkReader.MaxDocumentBytes;
                    client.DefaultRequestHeaders.UserAgent.ParseAdd("edgeverifier/1");
                })
                .ConfigurePrimaryHttpMessageHandler(() => handler)
                .AddStandardResilienceHandler(o => Configure(o, options, breakers, logger))
                .SelectPipelineByAuthority();
        }

        error = null;
        return new KeyHttpClients(services.BuildServiceProvider(), breakers);
    }

    public HttpClient Get(int index) => _services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName(index));

    private static void Configure(HttpStandardResilienceOptions o, RemoteKeyOptions options, BreakerStates breakers, ILogger logger)
    {
        var attempt = TimeSpan.FromMilliseconds(options.AttemptTimeoutMs);
        o.AttemptTimeout.Timeout = attempt;
        o.TotalRequestTimeout.Timeout = TimeSpan.FromMilliseconds(options.TotalTimeoutMs);
        // Polly refuses MaxRetryAttempts < 1 (every request would throw OptionsValidationException):
        // MaxRetries = 0 keeps one attempt slot but never retries.
        o.Retry.MaxRetryAttempts = Math.Max(options.MaxRetries, 1);
        if (options.MaxRetries == 0)
        {
            o.Retry.ShouldHandle = static _ => PredicateResult.False();
        }

        o.Retry.Delay = TimeSpan.FromMilliseconds(options.RetryDelayMs);
        o.Retry.BackoffType = DelayBackoffType.Exponential;
        o.Retry.UseJitter = true;
        o.CircuitBreaker.FailureRatio = options.BreakerFailureRatio;
        o.CircuitBreaker.MinimumThroughput = options.BreakerMinimumThroughput;
        var sampling = TimeSpan.FromSeconds(options.BreakerSamplingSeconds);
        o.CircuitBreaker.SamplingDuration = sampling < 2 * attempt ? 2 * attempt : sampling;
        o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(options.BreakerBreakSeconds);
        o.CircuitBreaker.OnOpened = args =>
        {
            var authority = Authority(args.Context);
            breakers.Set(authority, BreakerStates.Open);
            Log.BreakerOpened(logger, authority, args.BreakDuration.TotalSeconds);
            return default;
        };
        o.CircuitBreaker.OnHalfOpened = args =>
        {
            var authority = Authority(args.Context);
            breakers.Set(authority, BreakerStates.HalfOpen);
            Log.BreakerHalfOpened(logger, authority);
            return default;
        };
        o.CircuitBreaker.OnClosed = args =>
        {
            var authority = Authority(args.Context);
            breakers.Set(authority, BreakerStates.Closed);
            Log.BreakerClosed(logger, authority);
            return default;
        };
    }

    private static string Authority(ResilienceContext context) =>
        context.GetRequestMessage()?.RequestUri?.Authority ?? "unknown";

    private static SocketsHttpHandler? CreateHandler(KeySourceOptions source, RemoteKeyOptions options, out string? error)
    {
        error = null;
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromMilliseconds(options.AttemptTimeoutMs),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
        };

        var setting = "CaFile";
        try
        {
            if (source.CaFile is { } caFile)
            {
                var roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(caFile);
                if (roots.Count == 0)
                {
                    error = $"CaFile: '{caFile}' holds no certificate";
                    return null;
                }

                // Only the configured roots anchor this registry; the public trust store is not consulted.
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is not null
                    && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                    && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
                    && ChainsTo(certificate, roots);
            }

            if (source.ClientCertificateFile is { } certFile)
            {
                setting = "ClientCertificateFile";
                var certificate = X509Certificate2.CreateFromPemFile(certFile, source.ClientKeyFile);
                if (!certificate.HasPrivateKey)
                {
                    error = $"ClientCertificateFile: '{certFile}' has no private key (set ClientKeyFile)";
                    return null;
                }

                handler.SslOptions.ClientCertificates = [certificate];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            error = $"{setting}: {e.Message.ReplaceLineEndings(" ")}";
            handler.Dispose();
            return null;
        }

        return handler;
    }

    private static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose() => _services.Dispose();
}
