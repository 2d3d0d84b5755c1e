using EdgeVerifier.Configuration;
using EdgeVerifier.Http;
using EdgeVerifier.Introspection;
using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Policy;
using EdgeVerifier.Revocation;
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

    /// <summary>ASP.NET Core's request-line logger, which also decides whether every request gets an Activity.</summary>
    internal const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private readonly KeyFileLoader _loader;

    private readonly VerificationPipeline _pipeline;

    private VerifierApp(WebApplication app, KeyResolver keys, KeyFileLoader loader, TokenVerifier verifier, VerificationPipeline pipeline)
    {
        App = app;
        Keys = keys;
        Verifier = verifier;
        _loader = loader;
        _pipeline = pipeline;
    }

    public WebApplication App { get; }

    public KeyResolver Keys { get; }

    public TokenVerifier Verifier { get; }

    /// <summary>The introspection client, when opaque-token prefixes are configured.</summary>
    public TokenIntrospector? Introspector => _pipeline.Introspector;

    /// <summary>The revocation list, when one is configured (refreshing once the app has started).</summary>
    public RevocationList? Revocation => _pipeline.Revocation;

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

        // The host's per-request diagnostics: whenever this logger is enabled at any level, ASP.NET Core starts
        // an Activity (a W3C trace id) and a log scope for every request, ~5 % of a request's CPU under load,
        // for a request-line log at Information. Off unless the configuration names the category; and never
        // while a query-parameter token may sit in the request line, whatever the settings say (a later rule
        // for the same category wins over the configuration's).
        var queryToken = !string.IsNullOrEmpty(options.Policy.QueryParameter);
        if (queryToken || !NamesCategory(builder.Configuration, HostingDiagnostics))
        {
            builder.Services.PostConfigure<LoggerFilterOptions>(filters => Silence(filters, HostingDiagnostics));
        }

        if (queryToken)
        {
            builder.Services.PostConfigure<LoggerFilterOptions>(filters => Silence(filters, "Microsoft.AspNetCore.HttpLogging"));
        }

        builder.Services.AddSingleton(time);

        // Prometheus text exposition of the EdgeVerifier meter at /metrics (OpenTelemetry's exporter).
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(Diagnostics.EdgeMetrics.MeterName, "System.Runtime")
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

        var claimsPolicy = VerifierFactory.CreatePolicy(options);
        var cache = options.TokenCacheEntries > 0 ? new VerifiedTokenCache(options.TokenCacheEntries, TimeSpan.FromSeconds(options.ClockSkewSeconds)) : null;
        var refused = options.RefusedTokenCacheEntries > 0 ? new RefusedTokenCache(options.RefusedTokenCacheEntries) : null;
        var verifier = new TokenVerifier(claimsPolicy, keys, time, cache, refused);
        var introspector = VerifierFactory.CreateIntrospector(options, verifier.Policy.Claims, time, loggers, out error);
        var revocation = error is null ? VerifierFactory.CreateRevocation(options, time, loggers, out error) : null;
        if (error is not null)
        {
            introspector?.Dispose();
            keys.Dispose();
            loader.Dispose();
            return null;
        }

        ReplayGuard? replay = null;
        if (options.Dpop.Enabled || options.OneTimeTokens)
        {
            try
            {
                var ring = NonceRing.Open(options.Replay.Path, options.Replay.Capacity, time.GetUtcNow());
                replay = new ReplayGuard(ring, options.Dpop, options.OneTimeTokens, options.ClockSkewSeconds, claimsPolicy.AllowedAlgorithms, options.Replay.FlushIntervalSeconds, time, loggers.CreateLogger("EdgeVerifier.Replay"));
                keys.Own(replay, Diagnostics.ReplayMetrics.Observe(ring, time));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"Replay:Path: '{options.Replay.Path}': {e.Message}";
                introspector?.Dispose();
                revocation?.Dispose();
                keys.Dispose();
                loader.Dispose();
                app.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return null;
            }
        }

        var policy = new AccessPolicy(options.Policy, verifier.Policy.Claims);
        var pipeline = new VerificationPipeline(verifier, introspector, revocation, policy);
        var state = new EndpointState(pipeline, new ErrorResponses(options.RetryAfterSeconds, policy.ScopeText), time, loggers.CreateLogger("EdgeVerifier.Http"), replay);
        Map(app, state, keys, revocation);
        return new VerifierApp(app, keys, loader, verifier, pipeline);
    }

    /// <summary>Whether <c>Logging:LogLevel:{category}</c> or <c>Logging:{provider}:LogLevel:{category}</c> is set.</summary>
    private static bool NamesCategory(ConfigurationManager configuration, string category)
    {
        foreach (var section in configuration.GetSection("Logging").GetChildren())
        {
            var levels = section.Key.Equals("LogLevel", StringComparison.OrdinalIgnoreCase) ? section : section.GetSection("LogLevel");
            if (!string.IsNullOrEmpty(levels[category]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Turns <paramref name="category"/> off for every provider. A rule for one provider beats a rule
    /// for all providers whatever their categories (e.g. <c>Logging:Console:LogLevel:Default</c>), so
    /// the category is silenced for each provider the rules name, after the configuration's rules.
    /// </summary>
    private static void Silence(LoggerFilterOptions filters, string category)
    {
        var providers = new List<string?> { null };
        foreach (var rule in filters.Rules)
        {
            if (rule.ProviderName is { } provider && !providers.Contains(provider))
            {
                providers.Add(provider);
            }
        }

        foreach (var provider in providers)
        {
            filters.Rules.Add(new LoggerFilterRule(provider, category, LogLevel.None, null));
        }
    }

    private static void Map(WebApplication app, EndpointState state, KeyResolver keys, RevocationList? revocation)
    {
        RequestDelegate forwardAuth = context => Measured(context, state);
        app.MapMethods("/verify", VerifyMethods, forwardAuth);
        app.MapMethods("/verify/{**path}", VerifyMethods, forwardAuth);
        app.MapMethods("/v1/verify", [HttpMethods.Post], (RequestDelegate)(context => ApiEndpoints.VerifyAsync(context, state)));
        app.MapMethods("/v1/time", ProbeMethods, (RequestDelegate)(context => ApiEndpoints.TimeAsync(context, state)));
        app.MapMethods("/healthz", ProbeMethods, (RequestDelegate)HealthEndpoints.HealthAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapMethods("/readyz", ProbeMethods, (RequestDelegate)(context => HealthEndpoints.ReadyAsync(context, keys, state.Replay, state.Time, revocation)));
    }

    /// <summary>Forward auth with its latency and successes recorded (refusals are counted where they are written).</summary>
    private static Task Measured(HttpContext context, EndpointState state)
    {
        var started = state.Time.GetTimestamp();
        var handled = ForwardAuthEndpoint.HandleAsync(context, state);
        if (handled.IsCompletedSuccessfully)
        {
            Record(context, state, started);
            return handled;
        }

        return AwaitThenRecord(handled, context, state, started);

        static async Task AwaitThenRecord(Task handled, HttpContext context, EndpointState state, long started)
        {
            await handled.ConfigureAwait(false);
            Record(context, state, started);
        }
    }

    private static void Record(HttpContext context, EndpointState state, long started)
    {
        var status = context.Response.StatusCode;
        if (status == StatusCodes.Status200OK)
        {
            Diagnostics.EdgeMetrics.Verification(VerifyError.None);
        }

        Diagnostics.EdgeMetrics.VerifyTime(state.Time.GetElapsedTime(started), status);
    }

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        Revocation?.Start();
        return App.StartAsync(cancellationToken);
    }

    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        Revocation?.Start();
        return App.RunAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync().ConfigureAwait(false);
        Revocation?.Dispose();
        Introspector?.Dispose();
        Keys.Dispose();
        _loader.Dispose();
    }
}
