using System.Buffers;
using System.Text.Json;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Http;

/// <summary><c>X-Request-ID</c>: a safe incoming id is echoed, anything else is replaced by a generated one.</summary>
public sealed class RequestIdTests
{
    private static readonly SearchValues<char> SafeAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");

    private static async Task<(string Header, string? Body, int Status)> SendAsync(AppHost host, string path, string? requestId, string? authorization, HttpMethod? method = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path) { Content = content };
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Request-ID", requestId);
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await host.Client.SendAsync(request);
        var header = Assert.Single(response.Headers.GetValues("X-Request-ID"));
        var text = await response.Content.ReadAsStringAsync();
        string? body = null;
        if (text.Length > 0)
        {
            using var json = JsonDocument.Parse(text);
            body = json.RootElement.TryGetProperty("requestId", out var id) ? id.GetString() : null;
        }

        return (header, body, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("abc-123")]
    [InlineData("req_2026.11.01:0001")]
    [InlineData("A")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public async Task Verify_SafeIncomingRequestId_EchoedInHeaderAndBody(string requestId)
    {
        await using var host = await AppHost.StartAsync();

        var (header, body, status) = await SendAsync(host, "/verify", requestId, "Bearer not-a-jwt");

        Assert.Equal(401, status);
        Assert.Equal(requestId, header);
        Assert.Equal(requestId, body);
    }

    [Fact]
    public async Task Verify_SafeIncomingRequestIdOnSuccess_EchoedInHeader()
    {
        await using var host = await AppHost.StartAsync();
        var token = TestTokens.Valid(SigningAlgorithm.ES256, host.Time.GetUtcNow());

        var (header, _, status) = await SendAsync(host, "/verify", "trace-42", "Bearer " + token);

        Assert.Equal(200, status);
        Assert.Equal("trace-42", header);
    }

    public static TheoryData<string> UnsafeIds() => new()
    {
        "with \"quotes\"",
        "with space",
        new string('a', 200),
        new string('a', 129),
        "semi;colon",
        "slash/id",
        "<script>",
        "back\\slash",
        "comma,separated",
        "percent%20",
        "tab\there",
    };

    [Theory]
    [MemberData(nameof(UnsafeIds))]
    public async Task Verify_UnsafeIncomingRequestId_ReplacedByGeneratedId(string requestId)
    {
        await using var host = await AppHost.StartAsync();

        var (header, body, status) = await SendAsync(host, "/verify", requestId, "Bearer not-a-jwt");

        Assert.Equal(401, status);
        AssertGenerated(header, requestId);
        Assert.Equal(header, body);
    }

    [Fact]
    public async Task Verify_NoIncomingRequestId_GeneratesOnePerRequest()
    {
        await using var host = await AppHost.StartAsync();

        var first = await SendAsync(host, "/verify", null, null);
        var second = await SendAsync(host, "/verify", null, null);

        AssertGenerated(first.Header, null);
        AssertGenerated(second.Header, null);
        Assert.Equal(first.Header, first.Body);
        Assert.NotEqual(first.Header, second.Header);
    }

    [Fact]
    public async Task Verify_TwoIncomingRequestIds_ReplacedByGeneratedId()
    {
        await using var host = await AppHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.TryAddWithoutValidation("X-Request-ID", ["one", "two"]);

        using var response = await host.Client.SendAsync(request);

        var header = Assert.Single(response.Headers.GetValues("X-Request-ID"));
        AssertGenerated(header, "one");
        Assert.NotEqual("two", header);
    }

    [Fact]
    public async Task ApiVerify_SafeIncomingRequestId_EchoedInHeaderAndBody()
    {
        await using var host = await AppHost.StartAsync();
        using var content = new StringContent("{\"token\":\"x\"}", System.Text.Encoding.UTF8, "application/json");

        var (header, body, status) = await SendAsync(host, "/v1/verify", "api-7", null, HttpMethod.Post, content);

        Assert.Equal(401, status);
        Assert.Equal("api-7", header);
        Assert.Equal("api-7", body);
    }

    [Fact]
    public async Task ApiVerify_UnsafeIncomingRequestId_ReplacedInHeaderAndBody()
    {
        await using var host = await AppHost.StartAsync();
        using var content = new StringContent("not json", System.Text.Encoding.UTF8, "application/json");

        var (header, body, status) = await SendAsync(host, "/v1/verify", "\"}, \"valid\":true", null, HttpMethod.Post, content);

        Assert.Equal(400, status);
        AssertGenerated(header, "\"}, \"valid\":true");
        Assert.Equal(header, body);
    }

    private static void AssertGenerated(string id, string? incoming)
    {
        Assert.NotEqual(incoming, id);
        Assert.InRange(id.Length, 1, 128);
        Assert.False(id.AsSpan().ContainsAnyExcept(SafeAlphabet), $"generated id '{id}' has unsafe characters");
    }
}
