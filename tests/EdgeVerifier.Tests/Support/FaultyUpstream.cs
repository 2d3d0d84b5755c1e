using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// What the tests' fake upstreams (<see cref="KeyServer"/>, <see cref="IntrospectionServer"/>) share:
/// real Kestrel on 127.0.0.1 (ephemeral port) and the switches that make it fail on demand — a
/// status instead of the answer, a delay, aborted connections, and a hold until released.
/// </summary>
public abstract class FaultyUpstream : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private volatile TaskCompletionSource? _hold;
    private int _delayMs;
    private volatile int _status;
    private volatile bool _close;

    /// <summary>Status every request gets instead of its answer (0 = answer normally).</summary>
    public int Status
    {
        get => _status;
        set => _status = value;
    }

    /// <summary>Delay before answering (real time; cut short when the caller goes away or the server stops).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromMilliseconds(Volatile.Read(ref _delayMs));
        set => Volatile.Write(ref _delayMs, (int)value.TotalMilliseconds);
    }

    /// <summary>Abort every connection without answering.</summary>
    public bool CloseConnections
    {
        get => _close;
        set => _close = value;
    }

    /// <summary>Holds every request until <see cref="Release"/> (for stampede and cancellation tests).</summary>
    public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _hold, null)?.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Release();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts Kestrel on 127.0.0.1 with <see cref="HandleAsync"/> for every request; returns its address (no trailing slash).</summary>
    protected async Task<string> ListenAsync(Action<ListenOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0, listen => configure?.Invoke(listen));
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }

    protected abstract Task HandleAsync(HttpContext context);

    /// <summary>
    /// The hold, the delay and the aborted connection, in that order. False when the request was
    /// aborted (by the switch, the caller or the server stopping): nothing is left to answer.
    /// </summary>
    protected async Task<bool> PassFaultsAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            if (_hold is { } hold)
            {
                await hold.Task.WaitAsync(linked.Token);
            }

            var delay = Delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, linked.Token);
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return false;
        }

        if (_close)
        {
            context.Abort();
            return false;
        }

        return true;
    }

    /// <summary>Waits (real time, bounded, polled every 5 ms) until <paramref name="done"/>; else a timeout naming what was seen.</summary>
    protected static async Task WaitUntilAsync(Func<bool> done, Func<string> seen, TimeSpan? timeout)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(seen());
            }

            await Task.Delay(5);
        }
    }
}
