using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeVerifier.Tests.Support;

/// <summary>Self-signed certificates for TLS tests (real clock: TLS validates against the system time).</summary>
public static class TestCertificates
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>A self-signed server certificate for 127.0.0.1 (or only <paramref name="dnsName"/> when given).</summary>
    public static X509Certificate2 Server(string? dnsName = null) => Create("CN=edgeverifier test registry", ServerAuth, dnsName);

    public static X509Certificate2 Client() => Create("CN=edgeverifier test client", ClientAuth, null);

    /// <summary>Writes the certificate as PEM; returns the path.</summary>
    public static string WriteCertificatePem(X509Certificate2 certificate, string path)
    {
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>Writes the private key as PKCS#8 PEM; returns the path.</summary>
    public static string WriteKeyPem(X509Certificate2 certificate, string path)
    {
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
        return path;
    }

    private static X509Certificate2 Create(string subject, string usage, string? dnsName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (usage == ServerAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            if (dnsName is null)
            {
                names.AddIpAddress(IPAddress.Loopback);
            }
            else
            {
                names.AddDnsName(dnsName);
            }

            request.CertificateExtensions.Add(names.Build());
        }

        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
