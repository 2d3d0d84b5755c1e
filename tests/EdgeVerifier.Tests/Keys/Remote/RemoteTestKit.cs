using System.Buffers.Text;
using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Keys.Remote;

/// <summary>Small helpers shared by the remote key source tests.</summary>
internal static class RemoteTestKit
{
    /// <summary>A fresh ES256 key (fast to make) with <paramref name="kid"/>.</summary>
    public static SigningKey Key(string kid) => TestKeys.Fresh(SigningAlgorithm.ES256, kid);

    /// <summary>
    /// A well-formed ES256 token naming <paramref name="kid"/> with a junk signature: enough to drive key
    /// resolution (the signature is only looked at once a key is found), cheap to make in bulk.
    /// </summary>
    public static string Unsigned(string kid, DateTimeOffset now)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{{\"alg\":\"ES256\",\"kid\":\"{kid}\",\"typ\":\"JWT\"}}"));
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(TestTokens.Payload(now)));
        return header + "." + payload + "." + new string('A', 86);
    }

    /// <summary>A random kid of the allowed alphabet.</summary>
    public static string RandomKid() => "r" + Guid.NewGuid().ToString("N");

    /// <summary>Lets fire-and-forget work that a request may have started run to the end (bounded real wait; used before asserting that nothing more happened).</summary>
    public static Task SettleAsync() => Task.Delay(150);
}
