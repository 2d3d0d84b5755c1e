using System.Text;
using System.Text.Json;
using EdgeVerifier.Http;
using EdgeVerifier.Tokens;
using Microsoft.AspNetCore.Http;

namespace EdgeVerifier.Tests.Http;

/// <summary>The pre-encoded refusals: every code yields valid JSON and a well-formed challenge.</summary>
public sealed class ErrorResponsesTests
{
    public static TheoryData<string> Codes()
    {
        var data = new TheoryData<string>();
        for (var i = 1; i < VerifyErrors.Count; i++)
        {
            data.Add(((VerifyError)i).Code());
        }

        return data;
    }

    private static async Task<(DefaultHttpContext Context, string Body)> WriteAsync(VerifyError error, string method = "GET", string requestId = "rid-1")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        using var body = new MemoryStream();
        context.Response.Body = body;
        await new ErrorResponses(retryAfterSeconds: 9).WriteAsync(context, error, requestId);
        return (context, Encoding.UTF8.GetString(body.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public async Task WriteAsync_EveryCode_WritesValidJsonBodyAndMatchingHeaders(string code)
    {
        Assert.True(VerifyErrors.TryParse(code, out var error));

        var (context, body) = await WriteAsync(error);

        var response = context.Response;
        Assert.Equal(error.HttpStatus(), response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), response.ContentLength);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(code, json.RootElement.GetProperty("error").GetString());
        Assert.Equal(error.Message(), json.RootElement.GetProperty("message").GetString());
        Assert.Equal("rid-1", json.RootElement.GetProperty("requestId").GetString());
        if (response.StatusCode == 403)
        {
            // RFC 6750 §3.1: a good token without the rights asked for.
            Assert.StartsWith("Bearer error=\"insufficient_scope\"", response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, response.Headers.RetryAfter.Count);
        }
        else if (response.StatusCode == 401)
        {
            var challenge = response.Headers.WWWAuthenticate.ToString();
            if (error == VerifyError.MissingToken)
            {
                Assert.Equal("Bearer", challenge);
            }
            else
            {
                // RFC 6750 §3: error_description is a quoted-string of %x20-21 / %x23-5B / %x5D-7E.
                Assert.Equal($"Bearer error=\"invalid_token\", error_description=\"{error.Message()}\"", challenge);
                Assert.DoesNotContain(error.Message(), c => c is '"' or '\\' or < ' ' or > '~');
            }
        }
        else
        {
            Assert.Equal(503, response.StatusCode);
            Assert.Equal("9", response.Headers.RetryAfter.ToString());
            Assert.Equal(0, response.Headers.WWWAuthenticate.Count);
        }
    }

    [Fact]
    public async Task WriteAsync_Head_WritesHeadersButNoBody()
    {
        var (context, body) = await WriteAsync(VerifyError.BadSignature, "HEAD");

        Assert.Equal(401, context.Response.StatusCode);
        Assert.Equal(1, context.Response.Headers.WWWAuthenticate.Count);
        Assert.Empty(body);
    }

    [Fact]
    public async Task WriteAsync_InsufficientScopeWithRequiredScopes_403ChallengeNamesTheScopes()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await new ErrorResponses(retryAfterSeconds: 9, requiredScopes: "video:read edge").WriteAsync(context, VerifyError.InsufficientScope, "rid-1");

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal(
            "Bearer error=\"insufficient_scope\", scope=\"video:read edge\", error_description=\"the token lacks a required scope\"",
            context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task WriteAsync_PathNotAllowed_403InsufficientScopeWithoutScopeAttribute()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await new ErrorResponses(retryAfterSeconds: 9, requiredScopes: "video:read").WriteAsync(context, VerifyError.PathNotAllowed, "rid-1");

        Assert.Equal(403, context.Response.StatusCode);
        var challenge = context.Response.Headers.WWWAuthenticate.ToString();
        Assert.StartsWith("Bearer error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
        Assert.DoesNotContain("scope=", challenge.Replace("insufficient_scope", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_LongestRequestId_FitsTheBody()
    {
        var requestId = new string('r', 128);

        var (_, body) = await WriteAsync(VerifyError.InvalidKid, requestId: requestId);

        using var json = JsonDocument.Parse(body);
        Assert.Equal(requestId, json.RootElement.GetProperty("requestId").GetString());
    }
}
