using EdgeVerifier.Configuration;
using EdgeVerifier.Http;
using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Tokens;
using OpenTelemetry.Metrics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace EdgeVerifier.Hosting;

/// <summary>The HTTP service: Kestrel, the routes of DESIGN.md, and the verifier behind them.</summary>
public sealed class VerifierApp : IAsyncDisposable
{
    private static readonly string[] VerifyMethods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post];
    private static readonly string[] ProbeMethods = [HttpMethods.Get, HttpMethods.Head];

    private readonly KeyFileLoader _loader;

    private VerifierApp(WebApplication app, KeyResolver keys, KeyFileLoader loader, TokenVerifier verifier)
    {
        App = app;
        Keys = keys;
        Verifier = verifier;
        _loader = loader;
    }

    public WebApplication App { get; }

    public KeyResolver Keys { get; }

    public TokenVerifier Verifier { get; }

    /// <summary>The addresses Kestrel bound (resolves port 0 to the real port once started).</summary>
    public ICollection<string> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];

    /// <summary>Builds the service; null and a one-line reason when a setting is unusable.</summary>
    public static VerifierApp? Create(VerifierOptions options, IConfiguration? configuration, TimeProvider time, out string? error, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (configuration is not null)
        {
            builder.Configuration.AddConfiguration(configuration);
        }

        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // A failed start (e.g. the port is taken) is reported by the CLI as one line, not as a host stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddFilter("ZiggyCreatures.Caching.Fusion", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(time);

        // Prometheus text exposition of the EdgeVerifier meter at /metrics (OpenTelemetry's exporter).
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(Diagnostics.EdgeMetrics.MeterName)
            .AddPrometheusExporter());

        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var loader = new KeyFileLoader();
        var keys = VerifierFactory.CreateKeys(options, loader, time, loggers, out error);
        if (keys is null)
        {
            loader.Dispose();
            return null;
        }

        var policy = VerifierFactory.CreatePolicy(options);
        var cache = options.TokenCacheEntries > 0 ? new VerifiedTokenCache(options.TokenCacheEntries, TimeSpan.FromSeconds(options.ClockSkewSeconds)) : null;
        var verifier = new TokenVerifier(policy, keys, time, cache);
        ReplayGuard? replay = null;
        if (options.Dpop.Enabled || options.OneTimeTokens)
        {
            try
            {
                var ring = NonceRing.Open(options.Replay.Path, options.Replay.Capacity, time.GetUtcNow());
                replay = new ReplayGuard(ring, options.Dpop, options.OneTimeTokens, options.ClockSkewSeconds, policy.AllowedAlgorithms, options.Replay.FlushIntervalSeconds, time, loggers.CreateLogger("EdgeVerifier.Replay"));
                keys.Own(replay, Diagnostics.ReplayMetrics.Observe(ring, time));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"Replay:Path: '{options.Replay.Path}': {e.Message}";
                keys.Dispose();
                loader.Dispose();
                app.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return null;
            }
        }

        var state = new EndpointState(verifier, new ErrorResponses(options.RetryAfterSeconds), time, loggers.CreateLogger("EdgeVerifier.Http"), replay);
        Map(app, state, keys);
        return new VerifierApp(app, keys, loader, verifier);
    }

    private static void Map(WebApplication app, EndpointState state, KeyResolver keys)
    {
        RequestDelegate forwardAuth = context => ForwardAuthEndpoint.HandleAsync(context, state);
        app.MapMethods("/verify", VerifyMethods, forwardAuth);
        app.MapMethods("/verify/{**path}", VerifyMethods, forwardAuth);
        app.MapMethods("/v1/verify", [HttpMethods.Post], (RequestDelegate)(context => ApiEndpoints.VerifyAsync(context, state)));
        app.MapMethods("/v1/time", ProbeMethods, (RequestDelegate)(context => ApiEndpoints.TimeAsync(context, state)));
        app.MapMethods("/healthz", ProbeMethods, (RequestDelegate)HealthEndpoints.HealthAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapMethods("/readyz", ProbeMethods, (RequestDelegate)(context => HealthEndpoints.ReadyAsync(context, keys, state.Replay, state.Time)));
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => App.StartAsync(cancellationToken);

    public Task RunAsync() => App.RunAsync();

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync().ConfigureAwait(false);
        Keys.Dispose();
        _loader.Dispose();
    }
}
