using EdgeVerifier.Keys;

namespace EdgeVerifier.Http;

/// <summary><c>/healthz</c> (liveness, touches nothing) and <c>/readyz</c> (key sources loaded).</summary>
internal static class HealthEndpoints
{
    public static Task HealthAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync("ok");
    }

    public static Task ReadyAsync(HttpContext context, KeyResolver keys)
    {
        var sources = new SourceStatus[keys.Sources.Count];
        var ready = true;
        for (var i = 0; i < sources.Length; i++)
        {
            var readiness = keys.Sources[i].Readiness;
            ready &= readiness.Ready;
            sources[i] = new SourceStatus { Name = keys.Sources[i].Name, Ready = readiness.Ready, Detail = readiness.Detail };
        }

        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new ReadinessReport { Ready = ready, Sources = sources }, HttpJsonContext.Default.ReadinessReport);
    }
}
