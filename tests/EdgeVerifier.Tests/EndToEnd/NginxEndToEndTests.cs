using System.Net;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeVerifier.Tests.EndToEnd;

/// <summary>
/// Real nginx (Debian's nginx-light, auth_request) running <c>deploy/nginx/site.conf</c> and
/// <c>edgeverifier-auth.conf</c> as shipped, in front of a real app, with the published binary as
/// the verifier; all on 127.0.0.1. Fails (does not skip) when nginx or the binary is missing:
/// the test command installs and publishes them.
/// </summary>
[Collection(NginxCollection.Name)]
public sealed class NginxEndToEndTests(NginxFixture site)
{
    [Fact]
    public async Task Request_ValidToken_ReachesAppWithIdentity()
    {
        using var response = await site.GetAsync("/orders/42?x=1", site.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal($"app saw subject=e2e-user issuer={TestTokens.Issuer} path=/orders/42", body);
    }

    [Fact]
    public async Task Request_ClientForgesIdentityHeaders_AppSeesVerifiedIdentityOnly()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/1");
        request.Headers.Authorization = new("Bearer", site.Token);
        request.Headers.Add("X-Auth-Subject", "admin");
        using var response = await site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("app saw subject=e2e-user ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_NoToken_401BareChallengeAppNotCalled()
    {
        var before = site.AppCalls;
        using var response = await site.GetAsync("/orders/1", token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.GetValues("WWW-Authenticate")));
        Assert.Equal(before, site.AppCalls);
    }

    [Fact]
    public async Task Request_TamperedToken_401WithVerifierChallenge()
    {
        // Same kid, same claims, another key: only the signature is wrong.
        var tampered = TestTokens.Sign(TestKeys.Fresh(SigningAlgorithm.ES256, "e2e"), TestTokens.Payload(site.Now, sub: "e2e-user"));
        var before = site.AppCalls;
        using var response = await site.GetAsync("/orders/1", tampered);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer error=\"invalid_token\"", Assert.Single(response.Headers.GetValues("WWW-Authenticate")), StringComparison.Ordinal);
        Assert.Contains("signature", Assert.Single(response.Headers.GetValues("WWW-Authenticate")), StringComparison.Ordinal);
        Assert.Equal(before, site.AppCalls);
    }

    [Fact]
    public async Task Request_PublicHealthRoute_NeedsNoToken()
    {
        using var response = await site.GetAsync("/healthz", token: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_VerifierDown_503WithRetryAfterThenRecovers()
    {
        await site.StopVerifierAsync();
        try
        {
            var before = site.AppCalls;
            using var response = await site.GetAsync("/orders/1", site.Token);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("5", Assert.Single(response.Headers.GetValues("Retry-After")));
            Assert.Contains("auth_unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(before, site.AppCalls);
        }
        finally
        {
            await site.StartVerifierAsync();
        }

        using var again = await site.GetAsync("/orders/1", site.Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NginxCollection : ICollectionFixture<NginxFixture>
{
    public const string Name = "nginx end to end";
}

/// <summary>nginx + the published verifier + a small app, started once for the collection.</summary>
public sealed class NginxFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private WebApplication? _app;
    private ChildProcess? _nginx;
    private ChildProcess? _verifier;
    private int _appCalls;
    private int _verifierPort;

    public HttpClient Client { get; private set; } = null!;

    public string Token { get; private set; } = string.Empty;

    public DateTimeOffset Now { get; } = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public int AppCalls => Volatile.Read(ref _appCalls);

    public async Task InitializeAsync()
    {
        // The app behind nginx: echoes the identity it was given.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/healthz", () => "ok");
        _app.MapGet("/{**path}", (HttpContext context) =>
        {
            Interlocked.Increment(ref _appCalls);
            var headers = context.Request.Headers;
            return $"app saw subject={headers["X-Auth-Subject"]} issuer={headers["X-Auth-Issuer"]} path={context.Request.Path}";
        });
        await _app.StartAsync();
        var appPort = new Uri(_app.Urls.First()).Port;

        // The verifier: the published binary over a key directory.
        var keys = Path.Combine(_dir.Path, "keys");
        Directory.CreateDirectory(keys);
        var key = TestKeys.Fresh(SigningAlgorithm.ES256, "e2e");
        TestKeys.WritePublic(keys, key);
        Token = TestTokens.Sign(key, TestTokens.Payload(Now, TimeSpan.FromHours(1), sub: "e2e-user"));
        _verifierPort = ChildProcess.FreePort();
        await StartVerifierAsync();

        // nginx, running the shipped site config with run-time ports.
        var nginxPort = ChildProcess.FreePort();
        var deploy = Path.Combine(PublishedBinary.RepositoryRoot, "deploy", "nginx");
        var conf = Path.Combine(_dir.Path, "conf");
        Directory.CreateDirectory(conf);
        Directory.CreateDirectory(Path.Combine(_dir.Path, "logs"));
        File.Copy(Path.Combine(deploy, "edgeverifier-auth.conf"), Path.Combine(conf, "edgeverifier-auth.conf"));
        var site = await File.ReadAllTextAsync(Path.Combine(deploy, "site.conf"));
        Assert.Contains("listen 127.0.0.1:8000;", site, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(conf, "site.conf"), site.Replace("listen 127.0.0.1:8000;", $"listen 127.0.0.1:{nginxPort};", StringComparison.Ordinal));
        var temp = Path.Combine(_dir.Path, "temp");
        await File.WriteAllTextAsync(Path.Combine(conf, "nginx.conf"), $$"""
            daemon off;
            worker_processes 1;
            {{(Environment.UserName == "root" ? "user root root;" : string.Empty)}}
            error_log {{_dir.Path}}/logs/error.log warn;
            pid {{_dir.Path}}/nginx.pid;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;
                upstream edgeverifier { server 127.0.0.1:{{_verifierPort}}; }
                upstream app { server 127.0.0.1:{{appPort}}; }
                include site.conf;
            }
            """);
        Directory.CreateDirectory(temp);
        var nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
        _nginx = ChildProcess.Start(nginx, ["-p", _dir.Path, "-c", Path.Combine(conf, "nginx.conf")]);
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginxPort}"), Timeout = ChildProcess.Bound };
        await WaitAsync(async () => (await Client.GetAsync("/healthz")).IsSuccessStatusCode, () => $"nginx did not come up: {_nginx.Error} {ReadLog()}");
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        return await Client.SendAsync(request);
    }

    public async Task StartVerifierAsync()
    {
        _verifier = ChildProcess.Start(PublishedBinary.Path, ["serve", "--keys", Path.Combine(_dir.Path, "keys"), "--issuer", TestTokens.Issuer, "--audience", TestTokens.Audience, "--urls", $"http://127.0.0.1:{_verifierPort}"], _dir.Path);
        using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_verifierPort}"), Timeout = TimeSpan.FromSeconds(2) };
        var verifier = _verifier;
        await WaitAsync(async () => (await probe.GetAsync("/healthz")).IsSuccessStatusCode, () => $"verifier did not come up: {verifier.Error}");
    }

    public async Task StopVerifierAsync()
    {
        if (_verifier is { } verifier)
        {
            verifier.Terminate();
            await verifier.WaitForExitAsync(ChildProcess.Bound);
            verifier.Dispose();
            _verifier = null;
        }
    }

    private string ReadLog()
    {
        var log = Path.Combine(_dir.Path, "logs", "error.log");
        return File.Exists(log) ? File.ReadAllText(log) : string.Empty;
    }

    private static async Task WaitAsync(Func<Task<bool>> ready, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + ChildProcess.Bound;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(describe());
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        _nginx?.Terminate();
        if (_nginx is not null)
        {
            await _nginx.WaitForExitAsync(ChildProcess.Bound);
            _nginx.Dispose();
        }

        await StopVerifierAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _dir.Dispose();
    }
}
