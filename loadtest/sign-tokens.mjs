// Signs many tokens (ES256 or RS256) with a private JWK written by `edgeverifier keygen`, with the
// claims `edgeverifier sign` writes (iss, sub, aud, iat, exp, jti). Node.js built-ins only.
// Usage: node sign-tokens.mjs PRIVATE_JWK COUNT ISSUER AUDIENCE TTL_SECONDS [options] > tokens.txt
// Options: --random-kid (each token gets a random 22-character kid instead of the key's),
//          --kid KID (one kid for every token), --sub-prefix P (default "user"),
//          --expired (exp one hour in the past, iat two hours), --prefix TEXT (written before
//          each token, e.g. "valid\t" for the class-counting wrk script).
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [file, count, iss, aud, ttl, ...rest] = process.argv.slice(2);
const opt = (name) => { const i = rest.indexOf(name); return i < 0 ? undefined : rest[i + 1]; };
const has = (name) => rest.includes(name);
const jwk = JSON.parse(readFileSync(file, 'utf8'));
let alg;
if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256';
else if (jwk.kty === 'RSA') alg = 'RS256';
else throw new Error('an ES256 (P-256) or RSA private JWK is needed');
const key = createPrivateKey({ key: jwk, format: 'jwk' });
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const prefix = (opt('--prefix') ?? '').replace(/\\t/g, '\t');
const subPrefix = opt('--sub-prefix') ?? 'user';
const now = Math.floor(Date.now() / 1000);
const iat = has('--expired') ? now - 7200 : now;
const exp = has('--expired') ? now - 3600 : now + Number(ttl);
const lines = [];
for (let i = 0; i < Number(count); i++) {
  const kid = has('--random-kid') ? randomBytes(16).toString('base64url').slice(0, 22) : (opt('--kid') ?? jwk.kid);
  const header = b64({ alg, kid, typ: 'JWT' });
  const payload = b64({ iss, sub: `${subPrefix}${i}`, aud, iat, exp, jti: randomBytes(16).toString('base64url') });
  const input = `${header}.${payload}`;
  // JWS ES256 is the raw R||S pair (RFC 7518 §3.4), not DER; RS256 is PKCS#1 v1.5.
  const signature = (alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), key)).toString('base64url');
  lines.push(`${prefix}${input}.${signature}`);
}
process.stdout.write(lines.join('\n') + '\n');
