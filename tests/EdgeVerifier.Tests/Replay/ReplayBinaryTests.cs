using System.Net;
using System.Text.Json;
using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// The published Native AOT binary and its ring file: a token or proof accepted once is refused
/// after <c>kill -9</c> and after SIGTERM, a corrupt ring does not stop start-up, and a second
/// instance cannot take over a ring in use. Every process is killed by PID when the test ends.
/// Real clock (the binary's own): tokens and proofs are made just before use.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReplayBinaryTests : IDisposable
{
    // The client's URL as the proxy forwards it: independent of the port each run of the binary gets.
    private const string ClientUrl = "https://api.example.com/orders";

    private static readonly (string Name, string Value)[] Forwarded =
        [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"), ("X-Forwarded-Uri", "/orders?page=1")];

    private readonly TempDirectory _dir = new();
    private readonly List<ChildProcess> _processes = [];

    public ReplayBinaryTests()
    {
        Directory.CreateDirectory(KeyDir);
        TestKeys.WritePublic(KeyDir, TestKeys.For(SigningAlgorithm.ES256));
    }

    private string KeyDir => _dir.File("keys");

    private string RingPath => _dir.File("state/nonces.ring");

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        _dir.Dispose();
    }

    private ChildProcess Serve(int port) => Serve(port, out _);

    private ChildProcess Serve(int port, out HttpClient client)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(RingPath)!);
        var server = ChildProcess.Start(
            PublishedBinary.Path,
            ["serve", "--keys", KeyDir, "--issuer", TestTokens.Issuer, "--audience", TestTokens.Audience, "--urls", $"http://127.0.0.1:{port}"],
            _dir.Path,
            new Dictionary<string, string?>
            {
                ["EDGEVERIFIER_REPLAY__PATH"] = RingPath,
                ["EDGEVERIFIER_REPLAY__CAPACITY"] = "4096",
                ["EDGEVERIFIER_ONETIMETOKENS"] = "true",
            });
        _processes.Add(server);
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = ChildProcess.Bound };
        return server;
    }

    private static async Task<(HttpStatusCode Status, string? Error, string? Challenge)> VerifyAsync(HttpClient client, string scheme, string token, string? proof = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {token}");
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
            foreach (var (name, value) in Forwarded)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var error = body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
        var challenge = response.Headers.TryGetValues("WWW-Authenticate", out var values) ? values.Single() : null;
        return (response.StatusCode, error, challenge);
    }

    private static string OneTimeToken(string jti) =>
        TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(Now, extra: $"\"jti\":\"{jti}\""));

    /// <summary>Accepts a one-time token and a DPoP proof once on a fresh binary; returns them for the replay.</summary>
    private async Task<(string OneTime, string Bound, string Proof)> AcceptOnceAsync(ChildProcess server, HttpClient client)
    {
        await server.WaitHealthyAsync(client);
        var oneTime = OneTimeToken("crash-" + Guid.NewGuid().ToString("N"));
        var bound = DpopTokens.Bound(Now, extra: $"\"jti\":\"bound-{Guid.NewGuid():N}\"");
        var proof = DpopTokens.Proof(bound, "GET", ClientUrl, Now).Sign();

        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "Bearer", oneTime)).Status);
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "DPoP", bound, proof)).Status);

        // And within the same process, of course.
        Assert.Equal("replayed", (await VerifyAsync(client, "Bearer", oneTime)).Error);
        return (oneTime, bound, proof);
    }

    private async Task AssertReplaysRefusedAsync(ChildProcess server, HttpClient client, (string OneTime, string Bound, string Proof) used)
    {
        await server.WaitHealthyAsync(client);

        var token = await VerifyAsync(client, "Bearer", used.OneTime);
        Assert.Equal(HttpStatusCode.Unauthorized, token.Status);
        Assert.Equal("replayed", token.Error);

        var proof = await VerifyAsync(client, "DPoP", used.Bound, used.Proof);
        Assert.Equal(HttpStatusCode.Unauthorized, proof.Status);
        Assert.Equal("replayed", proof.Error);
        Assert.StartsWith("DPoP error=\"invalid_dpop_proof\"", proof.Challenge, StringComparison.Ordinal);

        // The restarted service is otherwise healthy: new tokens and proofs pass.
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "Bearer", OneTimeToken("fresh-" + Guid.NewGuid().ToString("N")))).Status);
        // (One-time tokens are on, so the bound token is single-use too: a new one.)
        var freshBound = DpopTokens.Bound(Now, extra: $"\"jti\":\"bound-{Guid.NewGuid():N}\"");
        var freshProof = DpopTokens.Proof(freshBound, "GET", ClientUrl, Now).Sign();
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "DPoP", freshBound, freshProof)).Status);
        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        // It reopened the same ring rather than starting a new one.
        Assert.DoesNotContain("created anew", server.Output + server.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(RingPath)!, "*.corrupt-*"));
    }

    [Fact]
    public async Task Serve_KillDashNineThenRestart_ReplayedTokenAndProofRefused()
    {
        var first = Serve(ChildProcess.FreePort(), out var firstClient);
        using (firstClient)
        {
            var used = await AcceptOnceAsync(first, firstClient);

            var exit = await first.KillHardAsync();

            Assert.Equal(137, exit);
            var second = Serve(ChildProcess.FreePort(), out var secondClient);
            using (secondClient)
            {
                await AssertReplaysRefusedAsync(second, secondClient, used);
                Assert.Equal(137, await second.KillHardAsync());
            }

            // Twice in a row, and with the nonces the second run added.
            var third = Serve(ChildProcess.FreePort(), out var thirdClient);
            using (thirdClient)
            {
                await AssertReplaysRefusedAsync(third, thirdClient, used);
            }
        }
    }

    [Fact]
    public async Task Serve_SigtermThenRestart_ReplayedTokenAndProofRefused()
    {
        var first = Serve(ChildProcess.FreePort(), out var firstClient);
        using (firstClient)
        {
            var used = await AcceptOnceAsync(first, firstClient);

            first.Terminate();

            Assert.Equal(0, await first.WaitForExitAsync(ChildProcess.Bound));
            var second = Serve(ChildProcess.FreePort(), out var secondClient);
            using (secondClient)
            {
                await AssertReplaysRefusedAsync(second, secondClient, used);
                second.Terminate();
                Assert.Equal(0, await second.WaitForExitAsync(ChildProcess.Bound));
            }
        }
    }

    [Fact]
    public async Task Serve_CorruptRingFile_StartsMovesItAsideAndServes()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(RingPath)!);
        var garbage = new byte[4096];
        new Random(5).NextBytes(garbage);
        File.WriteAllBytes(RingPath, garbage);

        var server = Serve(ChildProcess.FreePort(), out var client);
        using (client)
        {
            await server.WaitHealthyAsync(client);

            using (var ready = await client.GetAsync("/readyz"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            var aside = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(RingPath)!, "nonces.ring.corrupt-*"));
            Assert.Equal(garbage, File.ReadAllBytes(aside));
            Assert.Equal(64 + (4096 * 8), new FileInfo(RingPath).Length);
            Assert.Contains("created anew (not a nonce ring (bad magic))", server.Output + server.Error, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "Bearer", OneTimeToken("after-corruption"))).Status);
        }
    }

    [Fact]
    public async Task Serve_SecondInstanceOnTheSameRing_Exit2AndFirstKeepsItsRing()
    {
        var first = Serve(ChildProcess.FreePort(), out var client);
        using (client)
        {
            await first.WaitHealthyAsync(client);
            var token = OneTimeToken("shared-" + Guid.NewGuid().ToString("N"));
            Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, "Bearer", token)).Status);

            var second = Serve(ChildProcess.FreePort());
            var exit = await second.WaitForExitAsync(ChildProcess.Bound);

            Assert.Equal(CliApp.BadSetting, exit);
            var line = Assert.Single(second.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("Replay:Path", line, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(RingPath)!, "*.corrupt-*"));
            Assert.Equal("replayed", (await VerifyAsync(client, "Bearer", token)).Error);
        }
    }
}
