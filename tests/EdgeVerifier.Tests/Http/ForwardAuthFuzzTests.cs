using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Xunit.Abstractions;

namespace EdgeVerifier.Tests.Http;

/// <summary>
/// Thousands of hostile <c>Authorization</c> values through real Kestrel to <c>/verify</c>,
/// generated from a fixed seed. No answer may be a 500 (nor the verifier's own 503
/// <c>internal_error</c>, which is how it reports a bug). 400 and 431 are allowed only when
/// Kestrel itself rejected the raw header before the app ran (no <c>X-Request-ID</c>).
/// </summary>
public sealed class ForwardAuthFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261101;
    private const int Parallelism = 16;
    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>A case: a category, the header value, and whether a 200 is a legitimate outcome.</summary>
    private sealed record Case(string Category, string Value, bool MayPass);

    private sealed record Outcome(Case Case, int Status, bool FromApp, string? Code, string? Failure);

    [Fact]
    public async Task Verify_ThousandsOfMalformedAuthorizationValues_NeverAnswer500()
    {
        await using var host = await AppHost.StartAsync(o => o.ClaimHeaders = new(StringComparer.Ordinal) { ["role"] = "X-Auth-Role" });
        var cases = Generate(new Random(Seed), host.Time.GetUtcNow());
        Assert.True(cases.Count >= 4000, $"only {cases.Count} cases");

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Parallelism,
            // One byte per char, so values with bytes 0x80-0xFF reach Kestrel as they are.
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        };
        using var client = new HttpClient(handler) { BaseAddress = host.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var outcomes = new ConcurrentBag<Outcome>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (c, _) =>
            outcomes.Add(await SendAsync(client, host.Client.BaseAddress!, c)));

        Report(outcomes);
        var failures = outcomes.Where(o => o.Failure is not null).Take(20).Select(o => $"[{o.Case.Category}] {o.Failure}: {Preview(o.Case.Value)}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(cases.Count, outcomes.Count);
    }

    private static async Task<Outcome> SendAsync(HttpClient client, Uri baseAddress, Case c)
    {
        // HttpClient refuses CR, LF and NUL in header values; those go over a raw socket.
        if (c.Value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            var raw = await RawHttp.GetAsync(baseAddress, "/verify", c.Value, TimeSpan.FromSeconds(10));
            return Judge(c, raw.Status, raw.HasHeader("X-Request-ID"), null);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        if (!request.Headers.TryAddWithoutValidation("Authorization", c.Value))
        {
            return new Outcome(c, 0, false, null, "HttpClient refused the header");
        }

        try
        {
            using var response = await client.SendAsync(request);
            var fromApp = response.Headers.Contains("X-Request-ID");
            var body = await response.Content.ReadAsStringAsync();
            return Judge(c, (int)response.StatusCode, fromApp, body);
        }
        catch (HttpRequestException) when (c.Value.Length > 16 * 1024)
        {
            // Kestrel answered 431 and closed while the client was still sending a huge header.
            var raw = await RawHttp.GetAsync(baseAddress, "/verify", c.Value, TimeSpan.FromSeconds(10));
            return Judge(c, raw.Status, raw.HasHeader("X-Request-ID"), null);
        }
    }

    private static Outcome Judge(Case c, int status, bool fromApp, string? body)
    {
        string? code = null;
        string? failure = null;
        if (body is { Length: > 0 })
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                code = json.RootElement.GetProperty("error").GetString();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                failure = $"{status} with a body that is not the error JSON";
            }
        }

        if (status is 400 or 431)
        {
            if (fromApp)
            {
                failure = $"the app answered {status}";
            }
        }
        else if (!fromApp)
        {
            failure = $"{status} without X-Request-ID";
        }
        else if (status is not (200 or 401 or 403 or 503))
        {
            failure = $"status {status}";
        }
        else if (status == 200 && !c.MayPass)
        {
            failure = "garbage was accepted";
        }
        else if (status != 200 && (code is null || !VerifyErrors.TryParse(code, out _)) && body is not null)
        {
            failure ??= $"{status} with unknown code '{code}'";
        }
        else if (code == "internal_error")
        {
            failure = "internal_error (an exception in the verifier)";
        }

        return new Outcome(c, status, fromApp, code, failure);
    }

    private void Report(IEnumerable<Outcome> outcomes)
    {
        var list = outcomes.ToList();
        output.WriteLine($"seed {Seed}, {list.Count} requests");
        foreach (var group in list.GroupBy(o => (o.Status, o.FromApp)).OrderBy(g => g.Key.Status))
        {
            output.WriteLine($"  {group.Key.Status} ({(group.Key.FromApp ? "app" : "Kestrel")}): {group.Count()}");
        }

        foreach (var category in list.GroupBy(o => o.Case.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = string.Join(", ", category.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));
            var codes = string.Join(", ", category.Where(o => o.Code is not null).GroupBy(o => o.Code).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}x{g.Count()}"));
            output.WriteLine($"  {category.Key}: {statuses} | {codes}");
        }

        // What passed, decoded, so a reviewer can see every acceptance is legitimate.
        foreach (var accepted in list.Where(o => o.Status == 200).OrderBy(o => o.Case.Category, StringComparer.Ordinal))
        {
            output.WriteLine($"  accepted [{accepted.Case.Category}] {Describe(accepted.Case.Value)}");
        }
    }

    private static string Describe(string value)
    {
        var token = value.Trim().Split(' ', '\t').Last();
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return Preview(value);
        }

        try
        {
            var header = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
            var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
            return Preview(value[..Math.Min(value.Length, 12)]) + " header " + Preview(header) + " payload " + Preview(payload);
        }
        catch (FormatException)
        {
            return Preview(value);
        }
    }

    private static string Preview(string value)
    {
        var escaped = JsonSerializer.Serialize(value.Length > 120 ? value[..120] : value);
        return $"{escaped} (length {value.Length})";
    }

    private static List<Case> Generate(Random random, DateTimeOffset now)
    {
        var cases = new List<Case>();
        var es256 = TestKeys.For(SigningAlgorithm.ES256);
        var rs256 = TestKeys.For(SigningAlgorithm.RS256);
        var hs256 = TestKeys.For(SigningAlgorithm.HS256);
        var eddsa = TestKeys.For(SigningAlgorithm.EdDSA);
        string[] valid =
        [
            TestTokens.Valid(SigningAlgorithm.ES256, now),
            TestTokens.Valid(SigningAlgorithm.RS256, now),
            TestTokens.Valid(SigningAlgorithm.HS256, now),
            TestTokens.Valid(SigningAlgorithm.EdDSA, now),
            TestTokens.Valid(SigningAlgorithm.PS512, now),
        ];

        // 1. Random visible ASCII, with and without the scheme.
        for (var i = 0; i < 600; i++)
        {
            var text = RandomString(random, random.Next(0, 300), 0x21, 0x7e);
            cases.Add(new("ascii", i % 3 == 0 ? text : "Bearer " + text, false));
        }

        // 2. Random bytes 0x00-0xFF (CR, LF and NUL included: those go raw).
        for (var i = 0; i < 500; i++)
        {
            var text = RandomString(random, random.Next(1, 200), 0x00, 0xff);
            cases.Add(new("bytes", i % 2 == 0 ? text : "Bearer " + text, false));
        }

        // 3. Every truncation of two valid tokens, from the end and from the front.
        foreach (var token in valid[..2])
        {
            for (var length = 0; length < token.Length; length++)
            {
                cases.Add(new("truncated-tail", "Bearer " + token[..length], false));
                cases.Add(new("truncated-head", "Bearer " + token[(token.Length - length)..], false));
            }
        }

        // 4. Mutations of valid tokens. A change in a segment's last char can leave the decoded
        // bytes unchanged (its low bits are padding), so these may still verify.
        for (var i = 0; i < 900; i++)
        {
            cases.Add(new("mutated", "Bearer " + Mutate(random, valid[random.Next(valid.Length)]), true));
        }

        // 5. Huge values around the token limit (8 KiB) and Kestrel's header limit (32 KiB).
        foreach (var length in (int[])[8191, 8192, 8193, 16_384, 30_000, 32_000, 32_700, 32_768, 33_000, 40_000, 65_536])
        {
            cases.Add(new("huge", "Bearer " + new string('A', length), false));
            var third = length / 3;
            cases.Add(new("huge", "Bearer " + new string('a', third) + "." + new string('b', third) + "." + new string('c', length - (2 * third) - 2), false));
            cases.Add(new("huge", new string('x', length), false));
        }

        // 6. Odd schemes and shapes around a valid token (some legitimately pass).
        var t = valid[0];
        foreach (var value in (string[])[
            "Bearer", "Bearer ", "Bearer\t", "bearer " + t, "BEARER " + t, "BeArEr " + t, "Bearer  " + t, "Bearer\t" + t,
            " Bearer " + t, "Bearer " + t + " ", "Bearer" + t, "Bearer: " + t, "Bearer=" + t, "Basic dXNlcjpwYXNz", "Basic " + t,
            "DPoP " + t, "Token " + t, "Negotiate YII=", "Bearer " + t + ", Bearer " + t, "Bearer " + t + " " + t,
            "Bearer \"" + t + "\"", "Bearer " + t + "=", "Bearer " + t + ".", "Bearer ." + t, "Bearer " + t.Replace('.', ' '),
            "Bearer ..", "Bearer ...", "Bearer a..b", "Bearer .a.b", "Bearer a.b.", "Bearer a.b.c.d", "Bearer a.b.c.d.e",
            "Bearer " + t + ".extra", "", " ", "\t", ",", "Bearer ,", "Bearer\u00a0" + t, "Bearer\u000b" + t, "Bearer\f" + t,
            "Bearer " + t.ToUpperInvariant(), "Bearer " + t.ToLowerInvariant(), "Bearer%20" + t, "Bearer+" + t,
        ])
        {
            cases.Add(new("scheme", value, true));
        }

        // 7. Three random base64url segments, and segments of random bytes.
        for (var i = 0; i < 400; i++)
        {
            cases.Add(new("garbage-segments", $"Bearer {RandomString(random, random.Next(1, 60), Base64UrlAlphabet)}.{RandomString(random, random.Next(1, 200), Base64UrlAlphabet)}.{RandomString(random, random.Next(1, 120), Base64UrlAlphabet)}", false));
            cases.Add(new("garbage-segments", $"Bearer {B64(RandomBytes(random, 40))}.{B64(RandomBytes(random, 80))}.{B64(RandomBytes(random, 64))}", false));
        }

        // 8. Segments that decode to garbage JSON, built from JSON's own alphabet.
        for (var i = 0; i < 400; i++)
        {
            cases.Add(new("garbage-json", $"Bearer {B64(JsonGarbage(random))}.{B64(JsonGarbage(random))}.{B64(RandomBytes(random, 64))}", false));
        }

        // 9. Hostile headers, correctly signed so every later step is reachable.
        var payload = TestTokens.Payload(now);
        foreach (var header in HostileHeaders())
        {
            cases.Add(new("hostile-header", "Bearer " + TestTokens.SignRaw(es256, header, payload), true));
            cases.Add(new("hostile-header", "Bearer " + TestTokens.SignRaw(hs256, header.Replace("ES256", "HS256", StringComparison.Ordinal).Replace("k-HS256", "k-ES256", StringComparison.Ordinal), payload), true));
        }

        foreach (var depth in (int[])[1, 2, 8, 15, 16, 17, 31, 32, 33, 64, 100, 500, 1000, 2000])
        {
            var nested = new string('[', depth) + new string(']', depth);
            cases.Add(new("deep-header", "Bearer " + TestTokens.SignRaw(es256, $"{{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"x\":{nested}}}", payload), true));
            cases.Add(new("deep-header", "Bearer " + TestTokens.SignRaw(es256, $"{{\"x\":{nested},\"alg\":\"ES256\",\"kid\":\"k-ES256\"}}", payload), true));
            cases.Add(new("deep-header", "Bearer " + TestTokens.SignRaw(es256, $"{{\"alg\":\"ES256\",\"kid\":{nested}}}", payload), false));
            var objects = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            cases.Add(new("deep-header", "Bearer " + TestTokens.SignRaw(es256, $"{{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"crit\":{objects}}}", payload), false));
        }

        // 10. Hostile payloads, correctly signed (the claims reader and the header map see them).
        foreach (var body in HostilePayloads(now))
        {
            cases.Add(new("hostile-payload", "Bearer " + TestTokens.Sign(es256, body), true));
            cases.Add(new("hostile-payload", "Bearer " + TestTokens.Sign(eddsa, body), true));
        }

        for (var i = 0; i < 300; i++)
        {
            var bytes = i % 2 == 0 ? RandomBytes(random, random.Next(0, 200)) : JsonGarbage(random);
            cases.Add(new("signed-garbage-payload", "Bearer " + TokenWriter.SignRaw(es256, Encoding.UTF8.GetBytes("{\"alg\":\"ES256\",\"kid\":\"k-ES256\"}"), bytes), false));
        }

        for (var i = 0; i < 100; i++)
        {
            // A valid header and payload under a random signature of the right length and of random lengths.
            var input = valid[i % valid.Length][..valid[i % valid.Length].LastIndexOf('.')];
            cases.Add(new("random-signature", $"Bearer {input}.{B64(RandomBytes(random, i % 2 == 0 ? 64 : random.Next(1, 600)))}", false));
        }

        _ = rs256;
        return cases;
    }

    private static IEnumerable<string> HostileHeaders()
    {
        const string Kid = "\"kid\":\"k-ES256\"";
        return
        [
            "{}", "[]", "null", "1", "\"ES256\"", "{\"alg\":\"none\"," + Kid + "}", "{\"alg\":\"None\"," + Kid + "}",
            "{\"alg\":\"\"," + Kid + "}", "{\"alg\":null," + Kid + "}", "{\"alg\":5," + Kid + "}", "{\"alg\":[\"ES256\"]," + Kid + "}",
            "{\"alg\":\"ES256\",\"alg\":\"ES256\"," + Kid + "}", "{\"alg\":\"ES256\"," + Kid + "," + Kid + "}",
            "{\"alg\":\"\\u0045S256\"," + Kid + "}", "{\"alg\":\"ES256\",\"kid\":\"\\u006b-ES256\"}", "{\"alg\":\"ES256\",\"kid\":\"\"}",
            "{\"alg\":\"ES256\",\"kid\":null}", "{\"alg\":\"ES256\",\"kid\":5}", "{\"alg\":\"ES256\",\"kid\":{}}",
            "{\"alg\":\"ES256\",\"kid\":\"../k-ES256\"}", "{\"alg\":\"ES256\",\"kid\":\"k-ES256/../k-ES256\"}", "{\"alg\":\"ES256\",\"kid\":\"k-ES256.jwk\"}",
            "{\"alg\":\"ES256\",\"kid\":\"" + new string('k', 128) + "\"}", "{\"alg\":\"ES256\",\"kid\":\"" + new string('k', 129) + "\"}",
            "{\"alg\":\"ES256\",\"kid\":\"" + new string('k', 4000) + "\"}", "{\"alg\":\"ES256\",\"kid\":\"k-ES256\\u0000\"}",
            "{\"alg\":\"ES256\",\"kid\":\"CON\"}", "{\"alg\":\"ES256\",\"kid\":\"-\"}", "{\"alg\":\"ES256\",\"kid\":\"k-RS256\"}",
            "{\"alg\":\"ES256\"," + Kid + ",\"crit\":[\"exp\"]}", "{\"alg\":\"ES256\"," + Kid + ",\"crit\":[]}", "{\"alg\":\"ES256\"," + Kid + ",\"crit\":\"b64\"}",
            "{\"alg\":\"ES256\"," + Kid + ",\"crit\":[\"b64\"],\"b64\":false}", "{\"alg\":\"ES256\"," + Kid + ",\"typ\":\"JWE\"}", "{\"alg\":\"ES256\"," + Kid + ",\"typ\":5}",
            "{\"alg\":\"ES256\"," + Kid + ",\"typ\":\"at+jwt\"}", "{\"alg\":\"ES256\"," + Kid + ",\"typ\":\"application/at+jwt\"}",
            "{\"alg\":\"ES256\"," + Kid + ",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}}",
            "{\"alg\":\"ES256\"," + Kid + ",\"jku\":\"http://127.0.0.1:1/jwks\",\"x5u\":\"http://127.0.0.1:1/x\",\"x5c\":[\"AA\"]}",
            "{\"alg\":\"ES256\"," + Kid + ",\"n\":1e999}", "{\"alg\":\"ES256\"," + Kid + ",\"n\":-0.0e-999999}", "{\"alg\":\"ES256\"," + Kid + ",\"s\":\"\\ud800\"}",
            "{\"alg\":\"ES256\"," + Kid + "} ", " {\"alg\":\"ES256\"," + Kid + "}", "\ufeff{\"alg\":\"ES256\"," + Kid + "}",
            "{\"alg\":\"ES256\"," + Kid + "}x", "{\"alg\":\"ES256\"," + Kid + "}{}", "{\"alg\":\"ES256\"," + Kid + ",}", "{\"alg\":\"ES256\"," + Kid + "/*c*/}",
            "{\"alg\":\"ES256\"," + Kid, "{'alg':'ES256'," + Kid + "}", "{alg:\"ES256\"," + Kid + "}", "{\"alg\":\"ES256\"," + Kid + ",\"\":\"\"}",
            "{\"alg\":\"ES256\"," + Kid + ",\"\\u0000\":1}", "{\"alg\":\"ES256\"," + Kid + ",\"pad\":\"" + new string('p', 2500) + "\"}",
        ];
    }

    private static IEnumerable<string> HostilePayloads(DateTimeOffset now)
    {
        var iat = now.ToUnixTimeSeconds();
        var ok = $"\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"iat\":{iat},\"exp\":{iat + 3600}";
        return
        [
            "{}", "[]", "null", "\"\"", "1", "{" + ok + "}", "{" + ok + ",\"sub\":5}", "{" + ok + ",\"sub\":null}", "{" + ok + ",\"sub\":[\"a\"]}",
            "{" + ok + ",\"sub\":\"a\",\"sub\":\"b\"}", "{" + ok + ",\"exp\":1}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":\"soon\"}",
            "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":1e999}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":-1e308}",
            "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":9223372036854775808}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":1.7976931348623157e308}",
            "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":NaN}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":\"edge\",\"exp\":" + (iat + 60) + ".999999999999}",
            "{\"iss\":5,\"aud\":\"edge\",\"exp\":" + (iat + 60) + "}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":{},\"exp\":" + (iat + 60) + "}",
            "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":[],\"exp\":" + (iat + 60) + "}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":[5],\"exp\":" + (iat + 60) + "}",
            "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":[\"x\",\"edge\"],\"exp\":" + (iat + 60) + "}", "{\"iss\":\"" + TestTokens.Issuer + "\",\"aud\":[[\"edge\"]],\"exp\":" + (iat + 60) + "}",
            "{" + ok + ",\"sub\":\"" + new string('s', 5000) + "\"}", "{" + ok + ",\"sub\":\"\\r\\nX-Injected: 1\"}", "{" + ok + ",\"sub\":\"\\ud800\"}",
            "{" + ok + ",\"sub\":\"\\u0000\"}", "{" + ok + ",\"role\":\"\\r\\n\\r\\n\"}", "{" + ok + ",\"role\":{\"a\":[1,{\"b\":2}]}}", "{" + ok + ",\"role\":[\"a\",1,null]}",
            "{" + ok + ",\"role\":[\"a\",[\"b\"]]}", "{" + ok + ",\"role\":[]}", "{" + ok + ",\"role\":1e400}", "{" + ok + ",\"role\":-0}", "{" + ok + ",\"role\":true}",
            "{" + ok + ",\"role\":null}", "{" + ok + ",\"role\":\"" + new string('r', 5000) + "\"}", "{" + ok + ",\"role\":\"a\",\"role\":\"b\"}",
            "{" + ok + ",\"x\":" + new string('[', 31) + new string(']', 31) + "}", "{" + ok + ",\"x\":" + new string('[', 32) + new string(']', 32) + "}",
            "{" + ok + ",\"x\":" + new string('[', 2000) + new string(']', 2000) + "}", "{" + ok + ",\"role\":" + new string('[', 100) + new string(']', 100) + "}",
            "{" + ok + "} ", "{" + ok + "}x", "{" + ok + "}{}", "{" + ok + ",}", "{" + ok + "/**/}", "\ufeff{" + ok + "}", "{" + ok,
            "{" + ok + ",\"\":1}", "{" + ok + ",\"\\u0000\":\"\\u0000\"}", "{" + ok + ",\"nbf\":" + (iat + 3600) + "}", "{" + ok + ",\"nbf\":\"x\"}",
        ];
    }

    private static string Mutate(Random random, string token)
    {
        var chars = token.ToCharArray().ToList();
        var kind = random.Next(9);
        var position = random.Next(chars.Count);
        switch (kind)
        {
            case 0:
                chars[position] = Base64UrlAlphabet[random.Next(Base64UrlAlphabet.Length)];
                break;
            case 1:
                chars.RemoveAt(position);
                break;
            case 2:
                chars.Insert(position, Base64UrlAlphabet[random.Next(Base64UrlAlphabet.Length)]);
                break;
            case 3:
                chars[position] = (char)random.Next(0x21, 0x7f);
                break;
            case 4:
                chars.Insert(position, '.');
                break;
            case 5:
                var segments = token.Split('.');
                (segments[0], segments[1]) = (segments[1], segments[0]);
                return string.Join('.', segments);
            case 6:
                var parts = token.Split('.');
                return string.Join('.', parts[0], parts[1], parts[random.Next(3)], parts[2]);
            case 7:
                var removed = token.Remove(token.IndexOf('.', StringComparison.Ordinal), 1);
                return removed;
            default:
                for (var i = 0; i < 8; i++)
                {
                    var p = random.Next(chars.Count);
                    chars[p] = char.IsAsciiLetterLower(chars[p]) ? char.ToUpperInvariant(chars[p]) : char.ToLowerInvariant(chars[p]);
                }

                break;
        }

        return new string([.. chars]);
    }

    private static byte[] JsonGarbage(Random random)
    {
        string[] pieces = ["{", "}", "[", "]", ":", ",", "\"", "\"alg\"", "\"kid\"", "\"ES256\"", "\"k-ES256\"", "\"exp\"", "\"sub\"", "1", "-", "e", "0.5", "true", "false", "null", " ", "\\", "\\u", "00", "\\ud800", "\u00e9", "\ufffd"];
        var builder = new StringBuilder();
        var count = random.Next(1, 40);
        for (var i = 0; i < count; i++)
        {
            builder.Append(pieces[random.Next(pieces.Length)]);
        }

        var bytes = Encoding.UTF8.GetBytes(builder.ToString()).ToList();
        if (random.Next(4) == 0)
        {
            bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(0x80, 0x100));
        }

        return [.. bytes];
    }

    private static string RandomString(Random random, int length, int min, int max)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)random.Next(min, max + 1);
        }

        return new string(chars);
    }

    private static string RandomString(Random random, int length, string alphabet)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
