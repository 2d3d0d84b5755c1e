using EdgeVerifier.Policy;

namespace EdgeVerifier.Tests.Policy;

/// <summary>Normalisation of forwarded targets: safe paths decode, every escape is refused.</summary>
public sealed class RequestPathTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/videos/123", "/videos/123")]
    [InlineData("/videos/123/", "/videos/123/")]
    [InlineData("/videos/123/seg-1.ts?token=x&y=2", "/videos/123/seg-1.ts")]
    [InlineData("/videos/123#frag", "/videos/123")]
    [InlineData("/a%20b/%7Euser", "/a b/~user")]
    [InlineData("/caf%C3%A9", "/café")]
    [InlineData("/a/.hidden/...", "/a/.hidden/...")]
    [InlineData("/a/b..c", "/a/b..c")]
    [InlineData("/a/%41", "/a/A")]
    public void Normalise_SafeTarget_DecodedPath(string target, string expected)
    {
        Assert.Equal(expected, RequestPath.Normalise(target));
    }

    /// <summary>Every way to leave a prefix, or to make a backend see another path than the verifier.</summary>
    public static TheoryData<string> Escapes() =>
    [
        "/videos/123/../456",
        "/videos/123/..",
        "/videos/123/./x",
        "/videos/123/.",
        "/videos/123/%2e%2e/456",
        "/videos/123/%2E%2E/456",
        "/videos/123/.%2e/456",
        "/videos/123/%2e./456",
        "/videos/123/%2e",
        "/videos/123/..;/456",
        "/videos/123/..;jsessionid=1/456",
        "/videos/123/%2e%2e;/456",
        "/videos/123%2f..%2f456",
        "/videos/123%2F..%2F456",
        "/videos/123%5c..%5c456",
        "/videos/123\\..\\456",
        "/videos/123/%252e%252e/456",
        "/videos/123/%25",
        "/videos/123/%c0%ae%c0%ae/456",
        "/videos/123/%e0%80%ae",
        "/videos/123/%ff",
        "/videos//123",
        "//videos/123",
        "/videos/123//",
        "/videos/123/%00",
        "/videos/123/%0a",
        "/videos/123/%7f",
        "/videos/123/%",
        "/videos/123/%2",
        "/videos/123/%zz",
        "/videos/123/é",
        "videos/123",
        "",
        "?x=/videos/123",
        "http://cdn.example/videos/123",
        "*",
    ];

    [Theory]
    [MemberData(nameof(Escapes))]
    public void Normalise_Escape_Refused(string target)
    {
        Assert.Null(RequestPath.Normalise(target));
    }

    [Theory]
    [InlineData("/videos/123", "/videos/123", true)]
    [InlineData("/videos/123/seg.ts", "/videos/123", true)]
    [InlineData("/videos/1234", "/videos/123", false)]
    [InlineData("/videos/12", "/videos/123", false)]
    [InlineData("/videos", "/videos/123", false)]
    [InlineData("/videos/123/seg.ts", "/videos/123/", true)]
    [InlineData("/videos/123", "/videos/123/", true)]
    [InlineData("/videos/1234", "/videos/123/", false)]
    [InlineData("/anything", "/", true)]
    [InlineData("/Videos/123", "/videos/123", false)]
    public void IsUnder_SegmentBoundary(string path, string prefix, bool expected)
    {
        Assert.Equal(expected, RequestPath.IsUnder(path, prefix));
    }

    [Theory]
    [InlineData("/v?access_token=abc", 1, "abc")]
    [InlineData("/v?a=1&access_token=abc&b=2", 1, "abc")]
    [InlineData("/v?access_token=a%2Eb%2Bc", 1, "a.b+c")]
    [InlineData("/v?access_token=a+b", 1, "a b")]
    [InlineData("/v?access_token=", 1, "")]
    [InlineData("/v?access_token", 1, "")]
    [InlineData("/v?access_token=a&access_token=a", 2, null)]
    [InlineData("/v?x_access_token=a", 0, null)]
    [InlineData("/v?access_token=%zz", 1, null)]
    [InlineData("/v#access_token=abc", 0, null)]
    [InlineData("/v?q=1#access_token=abc", 0, null)]
    [InlineData("/v", 0, null)]
    [InlineData("?access_token=abc", 1, "abc")]
    public void FindQueryValue_Cases(string target, int count, string? value)
    {
        Assert.Equal(count, RequestPath.FindQueryValue(target, "access_token", out var found));
        Assert.Equal(value, found);
    }

    [Theory]
    [InlineData("/v/1?access_token=eyJsecret.x.y&b=2", "/v/1?access_token=***&b=2")]
    [InlineData("/v/1?a=1&access_token=s1&access_token=s2", "/v/1?a=1&access_token=***&access_token=***")]
    [InlineData("/v/1", "/v/1")]
    [InlineData("/v/1?a=access_token", "/v/1?a=access_token")]
    public void Mask_HidesTheParameterValue(string target, string expected)
    {
        Assert.Equal(expected, RequestPath.Mask(target, "access_token"));
    }
}
