#!/usr/bin/env bash
# EdgeVerifier load scenario 1: GET /verify with one ES256 token repeated, then with 10,000
# distinct tokens round robin. The server is pinned to CPU 0 and wrk (-t1 -c32) to CPU 1, on
# 127.0.0.1 only; an unmeasured warm-up runs first. Prints rps, p50, p99, non-2xx, peak RSS
# (VmHWM) and start-up time (process start to the first /healthz 200).
#
# Usage: loadtest/run.sh [seconds per set, default 10] [path/to/edgeverifier]
#   The binary defaults to artifacts/publish/edgeverifier, published first when missing.
# Environment: PORT (default 28180), WARMUP (seconds, default 3, 0 = none), CONNECTIONS (default 32),
#   FRESH=1 (new key and tokens even when the cached ones are still valid),
#   LOADTEST_ARTIFACTS_PATH (dotnet build output when publishing, default /tmp/art-loadtest).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
secs=${1:-10}
bin=${2:-$root/artifacts/publish/edgeverifier}
port=${PORT:-28180}
warmup=${WARMUP:-3}
connections=${CONNECTIONS:-32}
out=$root/loadtest/out
issuer=https://issuer.test
audience=edge
url=http://127.0.0.1:$port

die() { echo "loadtest: $*" >&2; exit 1; }
[[ $secs =~ ^[0-9]+$ && $secs -ge 1 && $secs -le 600 ]] || die "seconds must be 1..600, got '$secs'"
[[ $(nproc) -ge 2 ]] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"
command -v taskset >/dev/null || die "taskset (util-linux) is missing"
command -v curl >/dev/null || die "curl is missing"
if ! command -v wrk >/dev/null; then
  echo "loadtest: installing wrk" >&2
  apt-get install -y -q wrk >/dev/null || die "wrk is missing and apt-get install -y wrk failed"
fi

if [[ ! -x $bin ]]; then
  [[ $# -ge 2 ]] && die "no executable at $bin"
  echo "loadtest: publishing $bin" >&2
  dotnet publish "$root/src/EdgeVerifier" -c Release -r linux-x64 -o "$root/artifacts/publish" \
    --artifacts-path "${LOADTEST_ARTIFACTS_PATH:-/tmp/art-loadtest}" >&2
fi
bin=$(readlink -f "$bin")

mkdir -p "$out"
cd "$out"

# Key and tokens are kept between runs while the tokens have more than 12 of their 24 hours left.
if [[ ${FRESH:-0} == 1 || ! -f priv.jwk || ! -f keys/k1.jwk || ! -f tokens-10k.txt \
      || -n $(find tokens-10k.txt -mmin +720) ]]; then
  rm -rf keys priv.jwk tokens-1.txt tokens-10k.txt
  mkdir keys
  "$bin" keygen --alg ES256 --kid k1 --out priv.jwk --public-dir keys >/dev/null
  "$bin" sign --key priv.jwk --iss "$issuer" --aud "$audience" --sub user0 --ttl 1d >tokens-1.txt
  t0=$(date +%s%N)
  if command -v node >/dev/null; then
    # One `edgeverifier sign` launch costs 10-30 ms here, so 10k launches take minutes; the helper
    # signs the same claims with the same key in one process.
    node "$root/loadtest/sign-many.mjs" priv.jwk 10000 "$issuer" "$audience" 86400 >tokens-10k.txt
  else
    echo "loadtest: node not found: signing 10,000 tokens with edgeverifier sign (slow)" >&2
    seq 0 9999 | xargs -P "$(nproc)" -I{} "$bin" sign --key priv.jwk --iss "$issuer" --aud "$audience" --sub user{} --ttl 1d >tokens-10k.txt
  fi
  echo "loadtest: signed 10,000 tokens in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
fi
[[ $(wc -l <tokens-10k.txt) == 10000 ]] || die "tokens-10k.txt does not hold 10,000 tokens"
# The helper's tokens must be ones the binary itself accepts.
for n in 1 5000 10000; do
  "$bin" verify --keys keys --issuer "$issuer" --audience "$audience" "$(sed -n "${n}p" tokens-10k.txt)" >/dev/null \
    || die "token $n of tokens-10k.txt does not verify offline"
done

curl -s -o /dev/null "$url/healthz" && die "port $port is already in use (set PORT)"

t0=$(date +%s%N)
taskset -c 0 "$bin" serve --keys keys --issuer "$issuer" --audience "$audience" --urls "$url" >server.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 1000); do
  curl -sf -o /dev/null "$url/healthz" && break
  kill -0 "$pid" 2>/dev/null || die "the server exited during start-up (see $out/server.log)"
  sleep 0.005
done
startup=$(( ($(date +%s%N) - t0) / 1000000 ))
curl -sf -o /dev/null "$url/healthz" || die "no /healthz answer within 10 s (see $out/server.log)"

# Correctness before speed: a valid token gets 200 + subject, a tampered one 401.
token=$(head -1 tokens-1.txt)
subject=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" "$url/verify" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-auth-subject" { print $2 }')
[[ $subject == user0 ]] || die "a valid token was not accepted with X-Auth-Subject user0"
signature=${token##*.}
tampered=${token%.*}.${signature:0:10}$([[ ${signature:10:4} == AAAA ]] && echo BBBB || echo AAAA)${signature:14}
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tampered" "$url/verify")
[[ $code == 401 ]] || die "a tampered token got $code, not 401"

load() { # load TOKENS-FILE SECONDS [extra wrk args]
  local file=$1 duration=$2; shift 2
  TOKENS=$file timeout $(( duration + 30 )) taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --timeout 2s "$@" \
    -s "$root/loadtest/rotate.lua" "$url"
}

if [[ $warmup != 0 ]]; then
  load tokens-10k.txt "$warmup" >/dev/null 2>&1 || die "the warm-up wrk run failed"
fi

echo "loadtest: $(basename "$bin") $(date -u +%FT%TZ), ${secs}s per set, wrk -t1 -c$connections, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| tokens | rps | p50 | p99 | non-2xx | socket errors | peak RSS MiB | startup ms |\n|---|---|---|---|---|---|---|---|\n'
for set in 1 10k; do
  result=$(load "tokens-$set.txt" "$secs" --latency 2>&1) || die "wrk failed on tokens-$set.txt: $result"
  echo "$result" >"wrk-$set.txt"
  rps=$(awk '/Requests\/sec/ { print int($2) }' <<<"$result")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$result")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$result")
  bad=$(awk '/Non-2xx/ { print $5 }' <<<"$result")
  errors=$(awk '/Socket errors/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n }' <<<"$result")
  rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$set" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${bad:-0}" "${errors:-0}" "$rss" "$startup"
done
kill -0 "$pid" 2>/dev/null || die "the server died during the run (see $out/server.log)"
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
