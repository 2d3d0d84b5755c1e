using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static EdgeVerifier.Tests.Keys.Remote.RemoteTestKit;

namespace EdgeVerifier.Tests.Keys.Remote;

/// <summary>Outbound TLS: a CA pinned per source, mutual TLS, and unusable TLS files refused at start-up.</summary>
public sealed class KeyHttpClientsTests
{
    [Fact]
    public async Task ResolveAsync_CaFilePinsSelfSignedRegistry_KeyFound()
    {
        using var certificate = TestCertificates.Server();
        await using var server = await KeyServer.StartAsync(certificate);
        using var files = new TempDirectory();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o => o.KeySources =
        [
            new KeySourceOptions { Keys = server.KeysUrl, CaFile = TestCertificates.WriteCertificatePem(certificate, files.File("ca.pem")) },
        ]);

        Assert.StartsWith("https://127.0.0.1:", server.KeysUrl, StringComparison.Ordinal);
        await harness.ExpectAsync(VerifyError.None, key);
    }

    [Fact]
    public async Task ResolveAsync_SelfSignedRegistryWithoutCaFile_RefusedByPublicTrustStore()
    {
        using var certificate = TestCertificates.Server();
        await using var server = await KeyServer.StartAsync(certificate);
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = 0;
        });

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        Assert.Contains(harness.Logs.WithId(20), e => e.Message.Contains("SecureConnectionError", StringComparison.Ordinal));
        Assert.Equal(0, server.Count(KeyServer.KeyPath("k1")));
    }

    [Fact]
    public async Task ResolveAsync_CaFileOfAnotherAuthority_Refused()
    {
        using var certificate = TestCertificates.Server();
        using var stranger = TestCertificates.Server();
        await using var server = await KeyServer.StartAsync(certificate);
        using var files = new TempDirectory();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.KeySources = [new KeySourceOptions { Keys = server.KeysUrl, CaFile = TestCertificates.WriteCertificatePem(stranger, files.File("ca.pem")) }];
            o.Remote.MaxRetries = 0;
        });

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        Assert.Equal(0, server.Count(KeyServer.KeyPath("k1")));
    }

    [Fact]
    public async Task ResolveAsync_PinnedCertificateForAnotherHostName_Refused()
    {
        using var certificate = TestCertificates.Server(dnsName: "registry.example");
        await using var server = await KeyServer.StartAsync(certificate);
        using var files = new TempDirectory();
        var key = Key("k1");
        server.PutKey(key);
        using var harness = new RemoteHarness(o =>
        {
            o.KeySources = [new KeySourceOptions { Keys = server.KeysUrl, CaFile = TestCertificates.WriteCertificatePem(certificate, files.File("ca.pem")) }];
            o.Remote.MaxRetries = 0;
        });

        await harness.ExpectAsync(VerifyError.KeySourceUnavailable, key);
    }

    [Fact]
    public async Task ResolveAsync_MutualTls_ClientCertificatePresentedAndRequired()
    {
        using var certificate = TestCertificates.Server();
        using var client = TestCertificates.Client();
        await using var server = await KeyServer.StartAsync(certificate, requiredClient: client);
        using var files = new TempDirectory();
        var ca = TestCertificates.WriteCertificatePem(certificate, files.File("ca.pem"));
        var clientCert = TestCertificates.WriteCertificatePem(client, files.File("client.pem"));
        var clientKey = TestCertificates.WriteKeyPem(client, files.File("client.key"));
        var key = Key("k1");
        server.PutKey(key);

        using (var withCertificate = new RemoteHarness(o => o.KeySources =
        [
            new KeySourceOptions { Keys = server.KeysUrl, CaFile = ca, ClientCertificateFile = clientCert, ClientKeyFile = clientKey },
        ]))
        {
            await withCertificate.ExpectAsync(VerifyError.None, key);
        }

        using var without = new RemoteHarness(o =>
        {
            o.KeySources = [new KeySourceOptions { Keys = server.KeysUrl, CaFile = ca }];
            o.Remote.MaxRetries = 0;
        });
        await without.ExpectAsync(VerifyError.KeySourceUnavailable, key);
        Assert.Equal(1, server.Count(KeyServer.KeyPath("k1")));
    }

    [Theory]
    [InlineData("CaFile")]
    [InlineData("ClientCertificateFile")]
    [InlineData("ClientKeyFile")]
    public void Validate_TlsFileMissing_OneLineNamingSetting(string setting)
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgeverifier-tests", "missing-" + Guid.NewGuid().ToString("N") + ".pem");
        var source = new KeySourceOptions { Keys = "https://keys.example/" };
        switch (setting)
        {
            case "CaFile":
                source.CaFile = missing;
                break;
            case "ClientCertificateFile":
                source.ClientCertificateFile = missing;
                break;
            default:
                source.ClientKeyFile = missing;
                break;
        }

        var options = new VerifierOptions { AnyIssuer = true, AnyAudience = true, KeySources = [new() { Keys = "jwks:https://other.example/jwks" }, source] };

        var error = SettingsLoader.Validate(options);

        Assert.Equal($"KeySources:1:{setting}: '{missing}' does not exist", error);
    }

    [Fact]
    public void CreateKeys_CaFileCannotBeRead_RefusesWithOneLineNamingSetting()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgeverifier-tests", "missing-" + Guid.NewGuid().ToString("N") + ".pem");
        var options = new VerifierOptions { AnyIssuer = true, AnyAudience = true, KeySources = [new() { Keys = "https://keys.example/", CaFile = missing }] };
        using var loader = new KeyFileLoader();

        var keys = VerifierFactory.CreateKeys(options, loader, new FakeTimeProvider(), NullLoggerFactory.Instance, out var error);

        Assert.Null(keys);
        Assert.NotNull(error);
        Assert.StartsWith("CaFile: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a certificate")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    public void CreateKeys_CaFileWithoutUsableCertificate_Refuses(string content)
    {
        using var files = new TempDirectory();
        var ca = files.File("ca.pem");
        File.WriteAllText(ca, content);
        var options = new VerifierOptions { AnyIssuer = true, AnyAudience = true, KeySources = [new() { Keys = "https://keys.example/", CaFile = ca }] };
        Assert.Null(SettingsLoader.Validate(options)); // the file exists: only opening it can tell
        using var loader = new KeyFileLoader();

        var keys = VerifierFactory.CreateKeys(options, loader, new FakeTimeProvider(), NullLoggerFactory.Instance, out var error);

        Assert.Null(keys);
        Assert.StartsWith("CaFile", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error!);
    }

    [Fact]
    public void CreateKeys_ClientCertificateWithoutKey_Refuses()
    {
        using var client = TestCertificates.Client();
        using var files = new TempDirectory();
        var options = new VerifierOptions
        {
            AnyIssuer = true,
            AnyAudience = true,
            KeySources = [new() { Keys = "https://keys.example/", ClientCertificateFile = TestCertificates.WriteCertificatePem(client, files.File("client.pem")) }],
        };
        using var loader = new KeyFileLoader();

        var keys = VerifierFactory.CreateKeys(options, loader, new FakeTimeProvider(), NullLoggerFactory.Instance, out var error);

        Assert.Null(keys);
        Assert.StartsWith("ClientCertificateFile", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://keys.example/", "is plain http to a non-loopback host")]
    [InlineData("jwks:not-a-url", "does not hold an absolute http(s) URL")]
    [InlineData("oidc:ftp://issuer.example", "does not hold an absolute http(s) URL")]
    public void Validate_BadRemoteKeys_OneLineNamingSetting(string keys, string reason)
    {
        var error = SettingsLoader.Validate(new VerifierOptions { AnyIssuer = true, AnyAudience = true, Keys = keys });

        Assert.NotNull(error);
        Assert.StartsWith("Keys: '" + keys + "'", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(RemoteKeyOptions.MaxRetries), 0)] // allowed: no retries
    [InlineData(nameof(RemoteKeyOptions.MaxRetries), 10)]
    public void Validate_RemoteBoundsInRange_Accepted(string name, int value)
    {
        var options = new VerifierOptions { AnyIssuer = true, AnyAudience = true, Keys = "https://keys.example/" };
        typeof(RemoteKeyOptions).GetProperty(name)!.SetValue(options.Remote, value);
        Assert.Null(SettingsLoader.Validate(options));
    }

    [Fact]
    public void Validate_TotalTimeoutNotAboveAttemptTimeout_Refused()
    {
        var options = new VerifierOptions { AnyIssuer = true, AnyAudience = true, Keys = "https://keys.example/" };
        options.Remote.AttemptTimeoutMs = 1000;
        options.Remote.TotalTimeoutMs = 1000;
        Assert.Equal("Remote:TotalTimeoutMs: must be larger than Remote:AttemptTimeoutMs", SettingsLoader.Validate(options));
    }
}

/// <summary>The per-host circuit breaker, on real time (1 s break): runs alone.</summary>
[Collection(NetworkTimingCollection.Name)]
public sealed class CircuitBreakerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ResolveAsync_RegistryReturns500sUnderLoad_BreakerOpensBoundsCallsAndProbeClosesIt()
    {
        const int Concurrency = 8;
        const int Requests = 400;
        const int MinimumThroughput = 4;
        const int Retries = 1;
        const int BreakSeconds = 1;
        await using var server = await KeyServer.StartAsync();
        server.Status = 500;
        await using var app = await RemoteAppHost.StartAsync(o =>
        {
            o.Keys = server.KeysUrl;
            o.Remote.MaxRetries = Retries;
            o.Remote.RetryDelayMs = 20;
            o.Remote.BreakerMinimumThroughput = MinimumThroughput;
            o.Remote.BreakerFailureRatio = 0.5;
            o.Remote.BreakerBreakSeconds = BreakSeconds;
            o.Remote.UnknownKidFetchesPerMinute = 100_000; // every request is a new kid: measure the breaker, not the budget
        });
        var now = app.Time.GetUtcNow();
        var statuses = new ConcurrentBag<HttpStatusCode>();

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (_, _) =>
        {
            using var response = await app.VerifyAsync(Unsigned(RandomKid(), now));
            statuses.Add(response.StatusCode);
        });
        var elapsed = clock.Elapsed;

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        var opened = await app.Logs.WaitForAsync(24);
        Assert.Contains(server.BaseAddress.Authority, opened.Message, StringComparison.Ordinal);

        // Before it opens: MinimumThroughput failures plus the attempts already in flight (one per worker);
        // then at most one probe per break duration. Without a breaker: Requests × (1 + Retries) = 800.
        var probes = (int)Math.Ceiling(elapsed.TotalSeconds / BreakSeconds) + 1;
        var bound = MinimumThroughput + Concurrency + probes;
        output.WriteLine($"{Requests} requests in {elapsed.TotalMilliseconds:0} ms made {server.Total} upstream calls (bound {bound})");
        Assert.InRange(server.Total, MinimumThroughput, bound);

        using (var ready = await app.Client.GetAsync("/readyz"))
        {
            // Open circuit, still ready: cached keys keep serving, and a registry outage must not
            // take every node out of the load balancer.
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("circuit open", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The registry recovers; after the break a probe goes through and closes the circuit.
        server.Status = 0;
        var key = Key("back");
        server.PutKey(key);
        await Task.Delay(TimeSpan.FromSeconds(BreakSeconds) + TimeSpan.FromMilliseconds(200));
        using (var response = await app.VerifyAsync(TestTokens.Sign(key, TestTokens.Payload(now))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await app.Logs.WaitForAsync(25);
        await app.Logs.WaitForAsync(26);
        using (var ready = await app.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("circuit closed", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
