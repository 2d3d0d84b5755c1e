using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Http;
using EdgeVerifier.Introspection;
using EdgeVerifier.Policy;
using EdgeVerifier.Revocation;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// What opaque tokens, the revocation list and the access policy add per request, network stubbed:
/// <c>Authorize_*</c> is the revocation check plus scopes and path scope on an already verified
/// token (target: 0 B); <c>Verify_HS256_AccessPolicy</c> is a full HS256 verify that also reads
/// <c>scope</c>, <c>jti</c> and the path claim (compare with <c>VerifyBenchmarks.Verify_HS256</c>);
/// <c>Introspect_CacheHit</c> is an opaque token answered from the introspection cache (SHA-256
/// of the token and a dictionary lookup; target: 0 B).
/// </summary>
[MemoryDiagnoser]
public class AccessBenchmarks : IDisposable
{
    private VerifierFixture _fixture = null!;
    private TokenVerifier _verifier = null!;
    private VerificationPipeline _pipeline = null!;
    private TokenIntrospector _introspector = null!;
    private RevocationList _revocation = null!;
    private string _listPath = null!;
    private ReadOnlyMemory<char> _token;
    private ReadOnlyMemory<char> _opaque;
    private VerifyResult _verified;
    private ForwardedTarget _target;

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new VerifierFixture(SigningAlgorithm.HS256);
        _listPath = Path.Combine(_fixture.Directory, "revoked.json");
        File.WriteAllText(_listPath, "{\"jti\":[\"other-1\",\"other-2\"],\"sub\":[\"mallory\"]}");
        var options = new VerifierOptions { Keys = _fixture.Directory, Issuers = [VerifierFixture.Issuer], Audiences = [VerifierFixture.Audience] };
        options.Policy.RequiredScopes = ["video:read"];
        options.Policy.PathScopeClaim = "path";
        options.Revocation.Path = _listPath;
        options.Introspection.Endpoints = [new() { Prefix = "evt_", Url = "http://127.0.0.1:9/introspect" }];
        var policy = VerifierFactory.CreatePolicy(options);
        _verifier = new TokenVerifier(policy, _fixture.Resolver, _fixture.Time);

        _revocation = VerifierFactory.CreateRevocation(options, _fixture.Time, NullLoggerFactory.Instance, out var error) ?? throw new InvalidOperationException(error);
        _revocation.RefreshOnceAsync(CancellationToken.None).GetAwaiter().GetResult();

        // Network stubbed: the endpoint's client answers from memory.
        var answer = "{\"active\":true,\"sub\":\"user-1\",\"scope\":\"video:read\",\"jti\":\"o-1\",\"path\":\"/videos/123\"}";
        var client = new HttpClient(new StubHandler(answer));
        var endpoint = new IntrospectionEndpoint("evt_", new Uri("http://127.0.0.1:9/introspect"), null, client);
        _introspector = new TokenIntrospector([endpoint], policy.Claims, options.Introspection, null, _fixture.Time, NullLogger.Instance, client);
        _pipeline = new VerificationPipeline(_verifier, _introspector, _revocation, new AccessPolicy(options.Policy, policy.Claims));

        _token = _fixture.Token(SigningAlgorithm.HS256, extra: "\"scope\":\"openid video:read\",\"path\":\"/videos/123\"").AsMemory();
        _opaque = "evt_0123456789abcdefghijklmnopqrstuvwxyz".AsMemory();
        _target = ForwardedTarget.FromRaw("/videos/123/seg-00042.ts");
        _verified = _verifier.VerifyAsync(_token).AsTask().GetAwaiter().GetResult();

        // Each benchmark must take the path it names.
        Expect(_verified.Error, "verify");
        Expect(Authorize_ScopesRevocationPath().Error, nameof(Authorize_ScopesRevocationPath));
        Expect(_introspector.IntrospectAsync(_opaque, 8192).AsTask().GetAwaiter().GetResult().Error, "introspection warm-up");
        var hit = Introspect_CacheHit();
        if (!hit.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the introspection cache hit did not complete synchronously");
        }

        Expect(hit.Result.Error, nameof(Introspect_CacheHit));
        var full = Verify_HS256_AccessPolicy();
        Expect(full.IsCompletedSuccessfully ? _pipeline.Authorize(full.Result, _target).Error : VerifyError.InternalError, nameof(Verify_HS256_AccessPolicy));
    }

    private static void Expect(VerifyError error, string what)
    {
        if (error != VerifyError.None)
        {
            throw new InvalidOperationException($"{what}: expected a pass, got {error.Code()}");
        }
    }

    [Benchmark]
    public VerifyResult Authorize_ScopesRevocationPath() => _pipeline.Authorize(_verified, _target);

    [Benchmark]
    public ValueTask<VerifyResult> Verify_HS256_AccessPolicy() => _verifier.VerifyAsync(_token);

    [Benchmark]
    public ValueTask<VerifyResult> Introspect_CacheHit() => _introspector.IntrospectAsync(_opaque, 8192);

    [GlobalCleanup]
    public void Dispose()
    {
        _introspector?.Dispose();
        _revocation?.Dispose();
        _fixture?.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class StubHandler(string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }
}
