#!/usr/bin/env bash
# Builds the Native AOT binary and starts it on the sample keys, after printing a sample
# token and a curl line. Usage: scripts/demo.sh [port]   (default 8080; Ctrl+C stops it)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
port=${1:-8080}
bash scripts/install-deps.sh
bin=artifacts/publish/edgeverifier
echo "building $bin (Native AOT)…" >&2
dotnet publish src/EdgeVerifier -c Release -r linux-x64 -o artifacts/publish -nologo -v quiet >&2
issuer=https://issuer.example
token=$("$bin" sign --key samples/sample-es256.private.jwk --iss "$issuer" --aud edge --sub alice --claim role=admin --ttl 1h)
cat <<MSG

Sample token (ES256, kid sample-es256, valid 1 h):
$token

Try it:
curl -i -H "Authorization: Bearer $token" http://127.0.0.1:$port/verify

Starting: $bin serve --keys samples/keys --issuer $issuer --audience edge --urls http://127.0.0.1:$port
MSG
exec "$bin" serve --keys samples/keys --issuer "$issuer" --audience edge --urls "http://127.0.0.1:$port"
