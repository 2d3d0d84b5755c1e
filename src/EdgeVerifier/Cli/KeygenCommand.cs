using System.Buffers.Text;
using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Cli;

/// <summary><c>keygen</c>: a new key pair; private JWK to <c>--out</c>, public <c>{kid}.jwk</c> into <c>--public-dir</c>.</summary>
internal static class KeygenCommand
{
    public static Command Create(CliContext context)
    {
        var alg = new Option<string>("--alg") { Description = "ES256 (default), ES384, ES512, RS256…PS512, EdDSA, HS256…HS512", DefaultValueFactory = _ => "ES256" };
        var kid = new Option<string>("--kid") { Description = "The key id (default: 22 random base64url characters)" };
        var output = new Option<string>("--out") { Description = "Where to write the private JWK (mode 0600)", Required = true };
        var publicDir = new Option<string>("--public-dir") { Description = "Directory that receives {kid}.jwk (the public key)" };
        var command = new Command("keygen", "Generate a signing key pair") { alg, kid, output, publicDir };
        command.SetAction(parse =>
        {
            var algorithm = SigningAlgorithms.Parse(parse.GetValue(alg)!);
            if (algorithm == SigningAlgorithm.Unknown)
            {
                return context.Fail(CliApp.BadSetting, $"--alg: '{parse.GetValue(alg)}' is not a supported algorithm");
            }

            var keyId = parse.GetValue(kid) ?? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            if (!HeaderReader.IsValidKid(keyId))
            {
                return context.Fail(CliApp.BadSetting, $"--kid: '{keyId}' is not of the form [A-Za-z0-9_-]{{1,128}}");
            }

            var directory = parse.GetValue(publicDir);
            if (directory is not null && !Directory.Exists(directory))
            {
                return context.Fail(CliApp.BadSetting, $"--public-dir: '{directory}' is not a directory");
            }

            using var key = SigningKey.Generate(algorithm, keyId);
            var privatePath = parse.GetValue(output)!;
            WriteJwk(privatePath, key.PrivateJwk, secret: true);
            context.Output.WriteLine($"kid: {keyId}");
            context.Output.WriteLine($"private key: {privatePath}");
            if (directory is not null)
            {
                var publicPath = Path.Join(directory, keyId + ".jwk");
                WriteJwk(publicPath, key.PublicJwk, secret: algorithm.Family() == KeyFamily.Symmetric);
                context.Output.WriteLine($"public key: {publicPath}");
                if (algorithm.Family() == KeyFamily.Symmetric)
                {
                    context.Error.WriteLine("edgeverifier: note: HS* keys are shared secrets; the key directory must be as private as the key file.");
                }
            }

            return CliApp.Ok;
        });
        return command;
    }

    private static void WriteJwk(string path, Jwk jwk, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var stream = new FileStream(path, options);
        JsonSerializer.Serialize(stream, jwk, JwkJsonContext.Default.Jwk);
        stream.WriteByte((byte)'\n');
        if (secret && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // also when the file already existed
        }
    }
}
