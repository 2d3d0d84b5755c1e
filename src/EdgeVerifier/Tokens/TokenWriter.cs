using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Keys;

namespace EdgeVerifier.Tokens;

/// <summary>Builds compact JWS tokens (CLI <c>sign</c>, tests, benchmarks).</summary>
public static class TokenWriter
{
    /// <summary>Signs <paramref name="payloadJson"/> with a header of alg, optional kid and typ <c>JWT</c>.</summary>
    public static string Sign(SigningKey key, ReadOnlySpan<byte> payloadJson, string? kid = null, string typ = "JWT")
    {
        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteString("alg", key.Algorithm.Name());
            if ((kid ?? key.Kid) is { } k)
            {
                json.WriteString("kid", k);
            }

            json.WriteString("typ", typ);
            json.WriteEndObject();
        }

        return SignRaw(key, header.WrittenSpan, payloadJson);
    }

    /// <summary>Signs an arbitrary header and payload, exactly as given (tests use it to build hostile tokens).</summary>
    public static string SignRaw(SigningKey key, ReadOnlySpan<byte> headerJson, ReadOnlySpan<byte> payloadJson)
    {
        var input = Base64Url.EncodeToString(headerJson) + "." + Base64Url.EncodeToString(payloadJson);
        var signature = key.Sign(Encoding.ASCII.GetBytes(input));
        return input + "." + Base64Url.EncodeToString(signature);
    }
}
