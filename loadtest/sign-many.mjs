// Signs many ES256 tokens with a private JWK written by `edgeverifier keygen`, with the claims
// `edgeverifier sign --iss I --aud A --sub userN --ttl 1d` writes (iss, sub, aud, iat, exp, jti).
// One process instead of one `edgeverifier sign` launch per token. Node.js built-ins only.
// Usage: node sign-many.mjs PRIVATE_JWK COUNT ISSUER AUDIENCE TTL_SECONDS > tokens.txt
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [file, count, iss, aud, ttl] = process.argv.slice(2);
const jwk = JSON.parse(readFileSync(file, 'utf8'));
if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('an ES256 (P-256) private JWK is needed');
const key = createPrivateKey({ key: jwk, format: 'jwk' });
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const header = b64({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' });
const iat = Math.floor(Date.now() / 1000);
const lines = [];
for (let i = 0; i < Number(count); i++) {
  const payload = b64({ iss, sub: `user${i}`, aud, iat, exp: iat + Number(ttl), jti: randomBytes(16).toString('base64url') });
  const input = `${header}.${payload}`;
  // JWS ES256 is the raw R||S pair (RFC 7518 §3.4), not DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  lines.push(`${input}.${signature}`);
}
process.stdout.write(lines.join('\n') + '\n');
