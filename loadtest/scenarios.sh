#!/usr/bin/env bash
# EdgeVerifier load scenarios 1-5 (see loadtest/README.md and docs/performance.md):
#   es256       one ES256 token; 10,000 distinct ES256 tokens (verified-token cache on, the default,
#               and off: TokenCacheEntries=0, so every request is a full ECDSA verify)
#   rs256       10,000 distinct RS256 tokens (cache on and off)
#   mixed       50 % valid, 50 % tampered / expired / unknown-kid round robin (401s expected, no 5xx)
#   unknown-kid random kids (10,000 tokens, each with a fresh random kid, signed by a key nobody
#               knows) interleaved 1:1 with valid tokens, keys from a local registry over HTTP
#               (python3 -m http.server, base-URL source); counts the registry's GETs
#   outage      same registry, two known kids (ES256 k1 + RS256 r1) cached by a warm-up, 20,000
#               distinct tokens; the registry is killed (by PID) halfway through the run
# Server pinned to CPU 0, wrk -t1 -c32 (and the registry) on CPU 1, traffic to 127.0.0.1 only.
# Each scenario prints rps, p50, p99, responses by status, socket errors, registry GETs, the
# server's peak RSS (VmHWM) and start-up time (process start to the first /healthz 200).
# Then, in the same run and with the same pinning, the reference peers on the same token sets (an
# AOT no-op floor, ASP.NET JwtBearer on the JIT, Node + jose; from ../shared/peers, built under
# $TMPDIR/edgeverifier-peers), `openssl speed` verify/s on the server core, and the issue's targets
# computed from these figures (met / MISSED).
#
# Usage: loadtest/scenarios.sh [seconds per run, default 10] [path/to/edgeverifier] [scenario...]
#   Scenarios default to all five, in the order above. The binary defaults to
#   artifacts/publish/edgeverifier (never published by this script).
# Environment: PORT (server, default 28180), REGISTRY_PORT (default 28190), WARMUP (seconds,
#   default 3), CONNECTIONS (default 32), FRESH=1 (new keys and tokens), PEERS=0 (no peers),
#   PEERS_DIR (peer sources, default ../shared/peers), PEERS_WORK (where they are built),
#   PEER_WARMUP (seconds, default 10).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
secs=${1:-10}
bin=${2:-$root/artifacts/publish/edgeverifier}
shift $(( $# < 2 ? $# : 2 ))
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(es256 rs256 mixed unknown-kid outage)
port=${PORT:-28180}
rport=${REGISTRY_PORT:-28190}
warmup=${WARMUP:-3}
connections=${CONNECTIONS:-32}
work=$root/loadtest/out/scenarios
issuer=https://issuer.test
audience=edge
url=http://127.0.0.1:$port
registry=http://127.0.0.1:$rport

die() { echo "loadtest: $*" >&2; exit 1; }
[[ $secs =~ ^[0-9]+$ && $secs -ge 2 && $secs -le 600 ]] || die "seconds must be 2..600, got '$secs'"
[[ $(nproc) -ge 2 ]] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"
for c in taskset curl node python3 wrk timeout openssl; do command -v $c >/dev/null || die "$c is missing"; done
[[ -x $bin ]] || die "no executable at $bin"
bin=$(readlink -f "$bin")
for s in "${scenarios[@]}"; do
  [[ $s =~ ^(es256|rs256|mixed|unknown-kid|outage)$ ]] || die "unknown scenario '$s'"
done

mkdir -p "$work"
cd "$work"

# Every process started here is tracked by PID and stopped on exit, error or interrupt.
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# stop PID: stops one of ours and forgets it, so the exit trap never signals a PID that may be reused.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() p
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
}

sign() { timeout 120 node "$root/loadtest/sign-tokens.mjs" "$@"; }
# tamper TOKEN: change 4 characters in the middle of the signature.
tamper() { local t=$1 s=${1##*.}; echo "${t%.*}.${s:0:10}$([[ ${s:10:4} == AAAA ]] && echo BBBB || echo AAAA)${s:14}"; }

# --- keys and tokens (reused while they have more than 12 of their 24 hours left) -------------
if [[ ${FRESH:-0} == 1 || ! -f done.stamp || -n $(find done.stamp -mmin +720) ]]; then
  rm -rf keys reg *.jwk tokens-*.txt done.stamp
  mkdir keys
  t0=$(date +%s%N)
  "$bin" keygen --alg ES256 --kid k1 --out es.jwk --public-dir keys >/dev/null
  "$bin" keygen --alg RS256 --kid r1 --out rs.jwk --public-dir keys >/dev/null
  "$bin" keygen --alg ES256 --kid nobody --out unknown.jwk >/dev/null   # public key published nowhere
  sign es.jwk 1 "$issuer" "$audience" 86400 --prefix 'valid\t' >tokens-es-1.txt
  sign es.jwk 10000 "$issuer" "$audience" 86400 --prefix 'valid\t' >tokens-es-10k.txt
  sign rs.jwk 1 "$issuer" "$audience" 86400 --prefix 'valid\t' >tokens-rs-1.txt
  sign rs.jwk 10000 "$issuer" "$audience" 86400 --sub-prefix ruser --prefix 'valid\t' >tokens-rs-10k.txt
  # mixed: 5,000 valid interleaved with 5,000 bad (tampered, expired, unknown kid in turn).
  sign es.jwk 5000 "$issuer" "$audience" 86400 --sub-prefix mix --prefix 'valid\t' >mix-valid.txt
  sign es.jwk 1667 "$issuer" "$audience" 86400 --sub-prefix tam >mix-tam.txt
  sign es.jwk 1667 "$issuer" "$audience" 86400 --sub-prefix exp --expired --prefix 'expired\t' >mix-exp.txt
  sign unknown.jwk 1666 "$issuer" "$audience" 86400 --random-kid --sub-prefix unk --prefix 'unknown-kid\t' >mix-unk.txt
  while read -r t; do printf 'tampered\t%s\n' "$(tamper "$t")"; done <mix-tam.txt >mix-tam2.txt
  paste -d '\n' mix-tam2.txt mix-exp.txt <(cat mix-unk.txt; echo) | grep -v '^$' >mix-bad.txt
  paste -d '\n' mix-valid.txt mix-bad.txt | grep -v '^$' >tokens-mixed.txt
  rm -f mix-*.txt
  # unknown-kid flood: 10,000 random kids, 1:1 with 10,000 valid ES256 tokens.
  sign unknown.jwk 10000 "$issuer" "$audience" 86400 --random-kid --sub-prefix rnd --prefix 'unknown-kid\t' >flood-unk.txt
  sign es.jwk 10000 "$issuer" "$audience" 86400 --sub-prefix flood --prefix 'valid\t' >flood-valid.txt
  paste -d '\n' flood-valid.txt flood-unk.txt >tokens-flood.txt
  rm -f flood-*.txt
  # outage: 20,000 distinct valid tokens over the two registry kids (more than the 10,000-entry
  # verified-token cache, so keys are looked up all along).
  paste -d '\n' tokens-es-10k.txt tokens-rs-10k.txt >tokens-outage.txt
  head -1 tokens-es-10k.txt >tokens-outage-warm.txt; head -1 tokens-rs-10k.txt >>tokens-outage-warm.txt
  mkdir -p reg/keys && cp keys/k1.jwk keys/r1.jwk reg/keys/
  touch done.stamp
  echo "loadtest: keys and tokens made in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
fi
[[ $(wc -l <tokens-mixed.txt) == 10000 && $(wc -l <tokens-flood.txt) == 20000 && $(wc -l <tokens-outage.txt) == 20000 ]] \
  || die "token files are incomplete (rerun with FRESH=1)"
# The helper's tokens must be ones the binary itself accepts (and the bad ones refused).
for f in tokens-es-10k.txt tokens-rs-10k.txt; do
  "$bin" verify --keys keys --issuer "$issuer" --audience "$audience" "$(sed -n 5000p $f | cut -f2)" >/dev/null \
    || die "token 5000 of $f does not verify offline"
done
for n in 2 4 6; do
  ! "$bin" verify --keys keys --issuer "$issuer" --audience "$audience" "$(sed -n ${n}p tokens-mixed.txt | cut -f2)" >/dev/null 2>&1 \
    || die "bad token $n of tokens-mixed.txt verifies offline"
done

# --- processes ----------------------------------------------------------------------------------
server_pid= startup= registry_pid=
# One GET /healthz from the shell itself (bash's /dev/tcp): a curl launch per probe costs 5-15 ms,
# more than the start-up being measured. Succeeds on a 200.
probe_healthz() {
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  local status
  read -r -t 2 _ status _ <&3 || status=
  exec 3<&-
  [[ $status == 200 ]]
}
wait_healthy() { # wait_healthy NAME T0: polls /healthz about every millisecond; sets startup (ms since T0)
  for _ in $(seq 1 10000); do
    probe_healthz && break
    kill -0 "$server_pid" 2>/dev/null || die "$1 exited during start-up (see $work/server-$1.log)"
    sleep 0.001
  done
  startup=$(( ($(date +%s%N) - $2) / 1000000 ))
  curl -sf -o /dev/null "$url/healthz" || die "$1: no /healthz answer within 10 s"
}
start_server() { # start_server NAME KEYS [VAR=value...]: EdgeVerifier pinned to CPU 0
  local name=$1 keys=$2; shift 2
  curl -s -o /dev/null "$url/healthz" && die "port $port is already in use (set PORT)"
  local t0; t0=$(date +%s%N)
  env EDGEVERIFIER_REPLAY__PATH="$work/replay-$name.ring" "$@" \
    taskset -c 0 "$bin" serve --keys "$keys" --issuer "$issuer" --audience "$audience" --urls "$url" >"server-$name.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_healthy "$name" "$t0"
  startups+=("$startup")
}
start_peer() { # start_peer NAME: a reference peer pinned to CPU 0, keys from $work/keys
  local name=$1 t0
  curl -s -o /dev/null "$url/healthz" && die "port $port is already in use (set PORT)"
  t0=$(date +%s%N)
  case $name in
  aot-floor) taskset -c 0 "$peers/aspnet-aot-floor/out/floor" --urls "$url" >"server-$name.log" 2>&1 & ;;
  jwtbearer) KEY_DIR=$work/keys taskset -c 0 dotnet "$peers/aspnet-jwtbearer/out/jwtbearer.dll" --urls "$url" >"server-$name.log" 2>&1 & ;;
  node-jose) taskset -c 0 node "$peers/node-jose/server.mjs" "$port" "$work/keys" >"server-$name.log" 2>&1 & ;;
  esac
  server_pid=$!
  pids+=("$server_pid")
  wait_healthy "$name" "$t0"
}
start_registry() {
  curl -s -o /dev/null "$registry/" && die "port $rport is already in use (set REGISTRY_PORT)"
  taskset -c 1 python3 -u -m http.server --bind 127.0.0.1 "$rport" --directory "$work/reg" >registry.log 2>&1 &
  registry_pid=$!
  pids+=("$registry_pid")
  for _ in $(seq 1 400); do curl -sf -o /dev/null "$registry/keys/k1.jwk" && break; sleep 0.025; done
  curl -sf -o /dev/null "$registry/keys/k1.jwk" || die "the registry did not start"
}
registry_gets() { grep -c '"GET /keys/' registry.log || true; }

# The reference peers (../shared/peers: an AOT no-op "floor", ASP.NET JwtBearer on the JIT, Node +
# jose), built outside the repository (the repo's Directory.Build.props and .editorconfig would
# apply inside it). PEERS=0 skips them.
prepare_peers() {
  local src=${PEERS_DIR:-$root/../shared/peers}
  [[ -d $src/aspnet-aot-floor && -d $src/aspnet-jwtbearer && -d $src/node-jose && -d $src/gen ]] \
    || die "no reference peers at $src (set PEERS_DIR, or PEERS=0 to run without them)"
  mkdir -p "$peers"
  local d
  for d in aspnet-aot-floor aspnet-jwtbearer node-jose gen; do
    mkdir -p "$peers/$d"
    find "$src/$d" -maxdepth 1 -type f -exec cp {} "$peers/$d/" \;
  done
  if [[ ! -x $peers/aspnet-aot-floor/out/floor ]]; then
    echo "loadtest: building the aot-floor peer" >&2
    (cd "$peers/aspnet-aot-floor" && timeout 900 dotnet publish -c Release -r linux-x64 -o out >build.log 2>&1) \
      || die "the aot-floor peer did not build (see $peers/aspnet-aot-floor/build.log)"
  fi
  if [[ ! -f $peers/aspnet-jwtbearer/out/jwtbearer.dll ]]; then
    echo "loadtest: building the jwtbearer peer" >&2
    (cd "$peers/aspnet-jwtbearer" && timeout 900 dotnet publish -c Release -o out >build.log 2>&1) \
      || die "the jwtbearer peer did not build (see $peers/aspnet-jwtbearer/build.log)"
  fi
  if [[ ! -d $peers/gen/node_modules/jose ]]; then
    echo "loadtest: installing jose for the node-jose peer" >&2
    (cd "$peers/gen" && timeout 300 npm install --no-audit --no-fund >npm.log 2>&1) \
      || die "npm install failed for the node-jose peer (see $peers/gen/npm.log)"
  fi
}

load() { # load TOKENS-FILE SECONDS [extra wrk args]
  local file=$1 duration=$2; shift 2
  TOKENS=$file timeout $(( duration + 30 )) taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --timeout 2s "$@" \
    -s "$root/loadtest/classes.lua" "$url"
}
warm() { [[ $warmup == 0 ]] || load "$1" "$warmup" >/dev/null 2>&1 || die "the warm-up wrk run on $1 failed"; }

declare -A rps_of rss_of
startups=()
header_printed=
row() { # row SERVER SCENARIO TOKENS WRK-OUTPUT REGISTRY-GETS
  local result=$4 rps p50 p99 ok bad s5 errors rss statuses
  rps=$(awk '/Requests\/sec/ { print int($2) }' <<<"$result")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$result")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$result")
  ok=$(awk '$1 == "status" && $2 ~ /^2/ { n += $3 } END { print n + 0 }' <<<"$result")
  bad=$(awk '$1 == "status" && $2 !~ /^2/ { n += $3 } END { print n + 0 }' <<<"$result")
  s5=$(awk '$1 == "status" && $2 ~ /^5/ { n += $3 } END { print n + 0 }' <<<"$result")
  statuses=$(awk '$1 == "status" { printf "%s%s×%s", sep, $2, $3; sep = " " }' <<<"$result")
  errors=$(awk '/Socket errors/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n }' <<<"$result")
  rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status" 2>/dev/null) || rss='?'  # gone: measure() says so
  rps_of["$1|$2|$3"]=${rps:-0}
  rss_of["$1|$2|$3"]=$rss
  if [[ -z $header_printed ]]; then
    printf '| server | scenario | tokens | rps | p50 | p99 | 2xx | non-2xx | 5xx | statuses | socket errors | registry GETs | peak RSS MiB | startup ms |\n'
    printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
    header_printed=1
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "$ok" "$bad" "$s5" "$statuses" "${errors:-0}" "$5" "$rss" "$startup"
}
measure() { # measure SERVER SCENARIO TOKENS-LABEL FILE [REGISTRY-GETS-BEFORE]: one bounded run, one row
  local result
  result=$(load "$4" "$secs" --latency 2>&1) || die "wrk failed on $4: $result"
  echo "$result" >"wrk-$1-$2-$3.txt"
  local gets=-
  [[ -n ${5:-} ]] && gets=$(( $(registry_gets) - $5 ))
  row "$1" "$2" "$3" "$result" "$gets"
  kill -0 "$server_pid" 2>/dev/null || die "$1 died during $2 (see $work/server-*.log)"
}
sent() { awk -v c="$2" '$1 == "sent" && $2 == c { print $3 }' "$1"; }

ev=edgeverifier
peers=${PEERS_WORK:-${TMPDIR:-/tmp}/edgeverifier-peers}
[[ ${PEERS:-1} == 0 ]] || prepare_peers

echo "loadtest: $(basename "$bin") $(date -u +%FT%TZ), ${secs}s per run, wrk -t1 -c$connections, load average $(cut -d' ' -f1-3 /proc/loadavg)"
notes=()
for s in "${scenarios[@]}"; do
  case $s in
  es256|rs256)
    a=${s:0:2}
    start_server "$s" keys
    warm "tokens-$a-10k.txt"
    [[ $s == rs256 ]] || measure $ev "$s" 1 "tokens-$a-1.txt"
    measure $ev "$s" 10k "tokens-$a-10k.txt"
    stop "$server_pid"
    start_server "$s-nocache" keys EDGEVERIFIER_TOKENCACHEENTRIES=0
    warm "tokens-$a-10k.txt"
    measure "$ev (cache off)" "$s" 10k "tokens-$a-10k.txt"
    stop "$server_pid"
    ;;
  mixed)
    start_server mixed keys
    warm tokens-mixed.txt
    measure $ev mixed "5k valid + 5k bad" tokens-mixed.txt
    f="wrk-$ev-mixed-5k valid + 5k bad.txt"
    notes+=("mixed: sent valid $(sent "$f" valid), tampered $(sent "$f" tampered), expired $(sent "$f" expired), unknown-kid $(sent "$f" unknown-kid); 200 with X-Auth-Subject $(awk '$1 == "ok-with-subject" { print $2 }' "$f")")
    stop "$server_pid"
    ;;
  unknown-kid)
    start_registry
    start_server unknown-kid "$registry/keys/"
    warm tokens-es-1.txt            # valid only: caches k1, no unknown kid is asked before the run
    before=$(registry_gets)
    measure $ev unknown-kid "10k random kids + 10k valid" tokens-flood.txt "$before"
    f="wrk-$ev-unknown-kid-10k random kids + 10k valid.txt"
    notes+=("unknown-kid: sent valid $(sent "$f" valid), random-kid $(sent "$f" unknown-kid); 200 with X-Auth-Subject $(awk '$1 == "ok-with-subject" { print $2 }' "$f"); registry GETs during the run $(( $(registry_gets) - before )) ($(grep -c '"GET /keys/k1.jwk' registry.log || true) for k1.jwk in all, including start-up and warm-up)")
    stop "$server_pid"; stop "$registry_pid"
    ;;
  outage)
    start_registry
    start_server outage "$registry/keys/"
    warm tokens-outage-warm.txt     # caches k1 and r1
    before=$(registry_gets)
    half=$(( secs / 2 ))
    # The killer's own sleep is stopped with it (an interrupted run leaves nothing behind).
    ( trap 'kill $nap 2>/dev/null; exit 0' TERM
      sleep "$half" & nap=$!; wait "$nap"
      kill "$registry_pid" 2>/dev/null && echo "registry killed at $(date +%T.%N | cut -c1-12)" >outage-kill.txt ) &
    killer=$!; pids+=("$killer")
    measure $ev outage "20k over 2 cached kids, registry killed at ${half}s" tokens-outage.txt "$before"
    wait "$killer" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    kill -0 "$registry_pid" 2>/dev/null && die "the registry was not killed"
    # A kid never seen, with the registry gone: expected 503 key_source_unavailable (not 5xx for cached kids).
    never=$(sed -n 2p tokens-flood.txt 2>/dev/null | cut -f2)
    code=$(curl -s -o /dev/null -m 10 -w '%{http_code} in %{time_total}s' -H "Authorization: Bearer $never" "$url/verify" || true)
    cached=$(curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Authorization: Bearer $(sed -n 1p tokens-es-10k.txt | cut -f2)" "$url/verify" || true)
    notes+=("outage: $(cat outage-kill.txt 2>/dev/null || echo 'registry kill not recorded'); after the run a cached kid got $cached, a never-seen kid got $code")
    stop "$server_pid"
    ;;
  esac
done

# The peers on the same token sets, one server at a time, same pinning. They read keys/ (k1, r1)
# from disk: no registry, so for unknown-kid and outage they answer from local keys (a random kid
# is a 401 without any fetch) and only their rps on the same token mix is comparable.
peer_names=()
[[ ${PEERS:-1} == 0 ]] || peer_names=(aot-floor jwtbearer node-jose)
for p in "${peer_names[@]}"; do
  start_peer "$p"
  # JwtBearer runs on the JIT: a longer warm-up lets tiered compilation settle before it is measured.
  saved=$warmup; warmup=${PEER_WARMUP:-10}; warm tokens-es-10k.txt; warmup=$saved
  for s in "${scenarios[@]}"; do
    case $s in
    es256) measure "$p" es256 1 tokens-es-1.txt; measure "$p" es256 10k tokens-es-10k.txt ;;
    rs256) measure "$p" rs256 10k tokens-rs-10k.txt ;;
    mixed) measure "$p" mixed "5k valid + 5k bad" tokens-mixed.txt ;;
    unknown-kid) measure "$p" unknown-kid "10k random kids + 10k valid" tokens-flood.txt ;;
    outage) measure "$p" outage "20k over 2 cached kids, registry killed at $(( secs / 2 ))s" tokens-outage.txt ;;
    esac
  done
  stop "$server_pid"
done

echo
for n in "${notes[@]}"; do echo "- $n"; done

# openssl speed on the server core, machine-readable (-mr: +F4 for ECDSA, +F2 for RSA, field 4 sign and
# field 5 verify, per second; the human table's column 7 for ECDSA is sign/s, not verify/s).
mr_verify() { awk -F: -v tag="$1" '$1 == tag { v = $5 + 0; if (v > 0 && v < 1) v = 1 / v; print int(v); exit }'; }
es_verify=$(taskset -c 0 openssl speed -mr -seconds 2 ecdsap256 2>/dev/null | mr_verify +F4)
rs_verify=$(taskset -c 0 openssl speed -mr -seconds 2 rsa2048 2>/dev/null | mr_verify +F2)
echo "- openssl speed on CPU 0: ECDSA P-256 verify ${es_verify:-?}/s, RSA-2048 verify ${rs_verify:-?}/s"

# --- the targets of the load-test issue, computed from this run ---------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "?") print "not measured"; else if (r + 0 >= t) print "met"; else print "MISSED" }'; }
echo
echo "| target | measured | ratio | verdict |"
echo "|---|---|---|---|"
if [[ -n ${rps_of["aot-floor|es256|1"]:-} && -n ${rps_of["$ev|es256|1"]:-} ]]; then
  r=$(ratio "${rps_of["$ev|es256|1"]}" "${rps_of["aot-floor|es256|1"]}")
  echo "| same token ≥ 0.8 × floor | ${rps_of["$ev|es256|1"]} vs ${rps_of["aot-floor|es256|1"]} rps | $r | $(verdict "$r" 0.8) |"
fi
if [[ -n ${rps_of["aot-floor|es256|10k"]:-} && -n $es_verify ]]; then
  bound=$(awk -v f="${rps_of["aot-floor|es256|10k"]}" -v o="$es_verify" 'BEGIN { if (f > 0 && o > 0) printf "%d", 1 / (1 / f + 1 / o); else print 0 }')
  for row_key in "$ev|es256|10k" "$ev (cache off)|es256|10k"; do
    [[ -n ${rps_of[$row_key]:-} ]] || continue
    r=$(ratio "${rps_of[$row_key]}" "$bound")
    echo "| 10k ES256, ${row_key%%|*} ≥ 0.8 × 1/(1/floor + 1/openssl) | ${rps_of[$row_key]} vs $bound rps | $r | $(verdict "$r" 0.8) |"
  done
fi
# Where every request is a full signature check (cache off),
# no verifier on this core can pass 1/(1/floor + seconds of verification per request): the ceiling.
ceiling() { # ceiling KEY: prints the ceiling rps, or nothing when the row's work is not fixed
  local rest=${1#*|} es=0 rs=0
  case $1 in
  "$ev (cache off)|es256|"*) es=1 ;;
  "$ev (cache off)|rs256|"*) rs=1 ;;
  *) return 0 ;;
  esac
  [[ -n ${rps_of["aot-floor|$rest"]:-} && -n $es_verify && -n $rs_verify ]] || return 0
  awk -v f="${rps_of["aot-floor|$rest"]}" -v e="$es" -v r="$rs" -v ev="$es_verify" -v rv="$rs_verify" \
    'BEGIN { if (f > 0 && ev > 0 && rv > 0) printf "%d", 1 / (1 / f + e / ev + r / rv) }'
}
for key in "${!rps_of[@]}"; do
  [[ $key == "$ev"* ]] || continue
  rest=${key#*|}
  for p in jwtbearer:2 node-jose:3; do
    peer=${p%%:*} want=${p##*:}
    [[ -n ${rps_of["$peer|$rest"]:-} ]] || continue
    r=$(ratio "${rps_of[$key]}" "${rps_of["$peer|$rest"]}")
    v=$(verdict "$r" "$want")
    c=$(ceiling "$key")
    if [[ $v == MISSED && -n $c ]]; then
      need=$(awk -v p="${rps_of["$peer|$rest"]}" -v w="$want" 'BEGIN { printf "%d", p * w }')
      (( need > c )) && v="MISSED: needs $need rps, above this core's ceiling of $c (floor + openssl verify); measured = $(ratio "${rps_of[$key]}" "$c") × the ceiling"
    fi
    echo "| ${key%%|*}, ${rest//|/ }: ≥ $want × $peer | ${rps_of[$key]} vs ${rps_of["$peer|$rest"]} rps | $r | $v |"
  done
done | sort
if [[ ${#startups[@]} -gt 0 ]]; then
  median=$(printf '%s\n' "${startups[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  echo "| cold start < 50 ms | EdgeVerifier starts: ${startups[*]} ms; median $median | | $(awk -v m="$median" 'BEGIN { print (m < 50) ? "met" : "MISSED" }') |"
fi
peak=0
for key in "${!rss_of[@]}"; do [[ $key == "$ev"* && ${rss_of[$key]} -gt $peak ]] && peak=${rss_of[$key]}; done
echo "| peak RSS under load < 64 MiB | highest EdgeVerifier VmHWM: $peak MiB | | $( (( peak < 64 )) && echo met || echo MISSED) |"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
