using System.Net;
using System.Text.Json;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Http;

/// <summary><c>/healthz</c> and <c>/readyz</c>.</summary>
public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Health_Get_Returns200Ok()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Health_KeyDirectoryDeleted_StillReturns200()
    {
        await using var host = await AppHost.StartAsync();
        Directory.Delete(host.Directory.Path, recursive: true);

        using var response = await host.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_KeysLoaded_Returns200Ready()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("ready").GetBoolean());
        // The key directory's entry (the replay ring reports itself as another source).
        var source = Assert.Single(body.RootElement.GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString()!.StartsWith("dir:", StringComparison.Ordinal));
        Assert.True(source.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task Ready_KeyDirectoryDeleted_Returns503NotReadyWithReason()
    {
        await using var host = await AppHost.StartAsync();
        Directory.Delete(host.Directory.Path, recursive: true);

        using var response = await host.Client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(body.RootElement.GetProperty("ready").GetBoolean());
        // The key directory's entry (the replay ring reports itself as another source).
        var source = Assert.Single(body.RootElement.GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString()!.StartsWith("dir:", StringComparison.Ordinal));
        Assert.False(source.GetProperty("ready").GetBoolean());
        Assert.Contains("missing", source.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_KeyDirectoryRecreated_Returns200Again()
    {
        await using var host = await AppHost.StartAsync();
        Directory.Delete(host.Directory.Path, recursive: true);
        using (var down = await host.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        }

        Directory.CreateDirectory(host.Directory.Path);

        using var up = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/v1/time")]
    public async Task Probes_Head_Returns200WithoutBody(string path)
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task UnknownRoute_Get_Returns404()
    {
        await using var host = await AppHost.StartAsync();

        using var response = await host.Client.GetAsync("/nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
