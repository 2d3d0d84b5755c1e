using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A real RFC 7662 introspection endpoint: Kestrel on 127.0.0.1 (ephemeral port) answering
/// <c>POST /introspect</c> with <c>token=…</c> from a table of answers (unknown tokens get
/// <c>{"active":false}</c>), with switches for failures (status, raw body, delay, closed
/// connections, hold/release) and thread-safe counters of calls, total and per token.
/// </summary>
public sealed class IntrospectionServer : FaultyUpstream
{
    public const string Path = "/introspect";

    private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Call> _log = new();
    private int _inFlight;
    private int _total;
    private volatile string? _rawBody;

    private IntrospectionServer()
    {
    }

    /// <summary>One call as the endpoint saw it.</summary>
    public readonly record struct Call(string? Token, string? Authorization, string? ContentType, string Method);

    /// <summary><c>http://127.0.0.1:port/introspect</c>.</summary>
    public string Url { get; private set; } = null!;

    /// <summary>A body sent with 200 instead of the answer (for non-JSON and wrong shapes); null = answer normally.</summary>
    public string? RawBody
    {
        get => _rawBody;
        set => _rawBody = value;
    }

    /// <summary>Calls that reached the endpoint (counted on arrival).</summary>
    public int Total => Volatile.Read(ref _total);

    public int InFlight => Volatile.Read(ref _inFlight);

    public IReadOnlyList<Call> Calls => [.. _log];

    public int CallsFor(string token) => _calls.TryGetValue(token, out var n) ? n : 0;

    public static async Task<IntrospectionServer> StartAsync()
    {
        var server = new IntrospectionServer();
        server.Url = await server.ListenAsync() + Path;
        return server;
    }

    /// <summary>Answers <paramref name="token"/> with the JSON <paramref name="answer"/>.</summary>
    public void Answer(string token, string answer) => _answers[token] = answer;

    /// <summary>Answers <paramref name="token"/> as active for <paramref name="sub"/> (plus <paramref name="extra"/> members).</summary>
    public void Active(string token, string sub = "user-1", string? extra = null) =>
        Answer(token, $"{{\"active\":true,\"sub\":\"{sub}\"{(extra is null ? "" : "," + extra)}}}");

    public void Forget(string token) => _answers.TryRemove(token, out _);

    /// <summary>Waits (real time, bounded) until at least <paramref name="count"/> calls are in flight.</summary>
    public Task WaitForInFlightAsync(int count = 1, TimeSpan? timeout = null) =>
        WaitUntilAsync(() => InFlight >= count, () => $"{InFlight} call(s) in flight, expected {count}", timeout);

    protected override async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref _inFlight);
        try
        {
            string? token = null;
            if (context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync();
                token = form["token"].Count == 1 ? form["token"][0] : null;
            }

            if (token is not null)
            {
                _calls.AddOrUpdate(token, 1, (_, n) => n + 1);
            }

            _log.Enqueue(new Call(token, context.Request.Headers.Authorization.Count == 0 ? null : context.Request.Headers.Authorization.ToString(), context.Request.ContentType, context.Request.Method));
            await AnswerAsync(context, token);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task AnswerAsync(HttpContext context, string? token)
    {
        if (!await PassFaultsAsync(context))
        {
            return;
        }

        if (Status != 0)
        {
            context.Response.StatusCode = Status;
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method) || token is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.ContentType = "application/json";
        var body = _rawBody ?? (_answers.TryGetValue(token, out var answer) ? answer : "{\"active\":false}");
        await context.Response.WriteAsync(body);
    }

    /// <summary>An http URL on 127.0.0.1 where nothing listens (connections are refused).</summary>
    public static string DeadUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}{Path}";
    }
}
