using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Revocation;

namespace EdgeVerifier.Http;

/// <summary><c>/healthz</c> (liveness, touches nothing) and <c>/readyz</c> (key sources loaded, revocation list usable).</summary>
internal static class HealthEndpoints
{
    public static Task HealthAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync("ok");
    }

    public static Task ReadyAsync(HttpContext context, KeyResolver keys, ReplayGuard? replay = null, TimeProvider? time = null, RevocationList? revocation = null)
    {
        var sources = new SourceStatus[keys.Sources.Count + (replay is null ? 0 : 1) + (revocation is null ? 0 : 1)];
        var next = keys.Sources.Count;
        var ready = true;
        for (var i = 0; i < keys.Sources.Count; i++)
        {
            var readiness = keys.Sources[i].Readiness;
            ready &= readiness.Ready;
            sources[i] = new SourceStatus { Name = keys.Sources[i].Name, Ready = readiness.Ready, Detail = readiness.Detail };
        }

        if (replay is not null)
        {
            // The nonce ring: loaded (it is, or start-up would have failed) and not refusing for want of room.
            var ring = replay.Ring;
            var live = ring.CountLive((time ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds());
            var full = replay.RecentlyFull;
            ready &= !full;
            sources[next++] = new SourceStatus
            {
                Name = "replay:" + ring.Path,
                Ready = !full,
                Detail = $"{live} of {ring.Capacity} slots live{(full ? "; FULL: proof-bearing requests are refused" : "")}",
            };
        }

        if (revocation is not null)
        {
            // Not ready only when stale under fail-closed: then every token is refused anyway.
            var (revocationReady, detail) = revocation.Readiness;
            ready &= revocationReady;
            sources[next++] = new SourceStatus { Name = "revocation", Ready = revocationReady, Detail = detail };
        }

        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new ReadinessReport { Ready = ready, Sources = sources }, HttpJsonContext.Default.ReadinessReport);
    }
}
