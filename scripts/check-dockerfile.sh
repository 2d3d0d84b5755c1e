#!/usr/bin/env bash
# Static checks of Dockerfile.aot and .dockerignore for machines without Docker (grep/awk only):
# base images named and pinned to 10.0, build and final stages, restore layer before the source
# copy, the publish command identical to the tested one (scripts/test.sh), a non-root USER in the
# final stage, VOLUME/EXPOSE/ENTRYPOINT, no key material or secrets copied, and no HEALTHCHECK that
# needs a shell. Runs hadolint too when it is installed. Exit 1 when any check fails.
# Usage: scripts/check-dockerfile.sh [Dockerfile, default Dockerfile.aot] [.dockerignore]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

file=${1:-Dockerfile.aot}
ignore=${2:-.dockerignore}
failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

[[ -f $file ]] || { echo "FAIL $file is missing"; exit 1; }

# Instructions with line continuations joined and comments dropped, one per line.
instructions=$(awk '
  /^[[:space:]]*#/ { next }
  { line = line $0 }
  /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); next }
  { if (line ~ /[^[:space:]]/) print line; line = "" }' "$file")
stage_count=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' <<<"$instructions" || true)
# The instructions of the last stage only.
final=$(awk 'toupper($1) == "FROM" { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' <<<"$instructions")
build=$(awk 'toupper($1) == "FROM" { n++ } n == 1' <<<"$instructions")

# --- stages and base images
check "two stages (build, final)" test "$stage_count" -eq 2
check "build stage: mcr.microsoft.com/dotnet/sdk:10.0 AS build" \
  grep -qE '^FROM[[:space:]]+mcr\.microsoft\.com/dotnet/sdk:10\.0[[:space:]]+AS[[:space:]]+build$' <<<"$build"
check "final stage: mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled" \
  grep -qE '^FROM[[:space:]]+mcr\.microsoft\.com/dotnet/runtime-deps:10\.0-noble-chiseled([[:space:]]+AS[[:space:]]+[a-z]+)?$' <<<"$final"
check "every base image is pinned to a 10.0 tag (no latest, no untagged)" \
  bash -c '! grep -iE "^FROM" <<<"$1" | grep -vqE "^FROM([[:space:]]+--platform=[^[:space:]]+)?[[:space:]]+mcr\.microsoft\.com/dotnet/[a-z-]+:10\.0[^[:space:]]*([[:space:]]|$)"' _ "$instructions"

# --- build stage
check "build stage installs clang and zlib1g-dev" bash -c 'grep -E "^RUN.*apt-get install" <<<"$1" | grep -q clang && grep -E "^RUN.*apt-get install" <<<"$1" | grep -q zlib1g-dev' _ "$build"
check "ARG TARGETARCH, mapped amd64->x64 and arm64->arm64" \
  bash -c 'grep -qE "^ARG[[:space:]]+TARGETARCH" <<<"$1" && grep -qE "amd64\)[[:space:]]*arch=x64" <<<"$1" && grep -qE "arm64\)[[:space:]]*arch=arm64" <<<"$1"' _ "$build"
restore_line=$(grep -nE '^RUN.*dotnet restore' <<<"$build" | head -1 | cut -d: -f1)
source_line=$(grep -nE '^COPY[[:space:]]+(\.|src/?)[[:space:]]' <<<"$build" | head -1 | cut -d: -f1)
check "restore runs before the source is copied (cached layer)" test -n "$restore_line" -a -n "$source_line" -a "${restore_line:-0}" -lt "${source_line:-0}"
check "only project, props and global.json files are copied before restore" \
  bash -c 'head -n "$2" <<<"$1" | grep -E "^COPY" | grep -vqE "^COPY([[:space:]]+[^[:space:]]*(\.csproj|\.props|global\.json))+[[:space:]]+[^[:space:]]+/?$" && exit 1; head -n "$2" <<<"$1" | grep -qE "^COPY.*EdgeVerifier\.csproj"' _ "$build" "${restore_line:-0}"

# --- publish: the tested command (scripts/test.sh) up to -o, with the RID's arch as a variable.
tested=$(grep -hoE 'dotnet publish src/EdgeVerifier( [^ ]+)*' scripts/test.sh | head -1 | sed -E 's/ -o .*//; s/linux-x64/linux-ARCH/')
docker_publish=$(grep -oE 'dotnet publish [^&;]*' <<<"$build" | head -1 | sed -E 's/[[:space:]]+$//')
normalised=$(sed -E 's/ -o .*//; s/linux-\$\{?[A-Za-z_]+\}?/linux-ARCH/' <<<"$docker_publish")
check "tested publish command found in scripts/test.sh ($tested)" test -n "$tested"
check "publish command identical to the tested one: '$docker_publish'" test -n "$tested" -a "$normalised" == "$tested"
check "publish adds no property overrides (-p:, /p:, --self-contained...)" \
  bash -c '! grep -qE "(^| )(-p:|/p:|--property|--self-contained|--no-self-contained|-f |--framework)" <<<"$1"' _ "$docker_publish"
check "publish writes to /out" grep -qE ' -o /out( |$)' <<<"$docker_publish"

# --- final stage
user=$(grep -iE '^USER[[:space:]]' <<<"$final" | tail -1 | awk '{ print $2 }' || true)
check "final stage sets a non-root USER (got '${user:-none}')" bash -c '[[ -n $1 && $1 != root && $1 != 0 && $1 != 0:* && $1 != root:* ]]' _ "$user"
check "final stage copies only the edgeverifier binary (and an empty state directory) from the build stage" \
  bash -c 'grep -E "^(COPY|ADD)" <<<"$1" | grep -vqE "^COPY[[:space:]]+--from=build([[:space:]]+--chown=[0-9:]+)?[[:space:]]+/(out/edgeverifier|state)[[:space:]]+/" && exit 1; grep -qE "^COPY[[:space:]]+--from=build[[:space:]]+/out/edgeverifier[[:space:]]+/app/edgeverifier$" <<<"$1"' _ "$final"
check "VOLUME declared" grep -qE '^VOLUME[[:space:]]' <<<"$final"
check "EXPOSE 8080" grep -qE '^EXPOSE[[:space:]]+8080$' <<<"$final"
check "EDGEVERIFIER_URLS=http://0.0.0.0:8080" grep -qE '^ENV.*EDGEVERIFIER_URLS=http://0\.0\.0\.0:8080' <<<"$final"
check 'ENTRYPOINT ["/app/edgeverifier", "serve"] (exec form)' \
  grep -qE '^ENTRYPOINT[[:space:]]+\[[[:space:]]*"/app/edgeverifier",[[:space:]]*"serve"[[:space:]]*\]$' <<<"$final"
check "no HEALTHCHECK that needs a shell or curl (the chiseled image has neither)" \
  bash -c '! grep -iE "^HEALTHCHECK" <<<"$1" | grep -qiE "CMD-SHELL|curl|wget|/bin/sh|[^[]CMD[[:space:]]+[a-z/]"' _ "$instructions"
check "the healthcheck approach is explained in a comment" grep -qiE '^#.*(healthz|HEALTHCHECK)' "$file"
check "HEALTHCHECK runs the binary's own probe in exec form" grep -qE '^[[:space:]]*CMD \["/app/edgeverifier", "healthcheck"\]' "$file"

# --- secrets
check "no key material, env files or settings copied (*.jwk, *.pem, *.key, *.pfx, .env, samples/)" \
  bash -c '! grep -E "^(COPY|ADD)" <<<"$1" | grep -qiE "\.jwk|\.pem|\.key([[:space:]]|$)|\.pfx|\.p12|\.env|samples|secret|id_rsa"' _ "$instructions"
check "no ADD from URLs" bash -c '! grep -qiE "^ADD[[:space:]].*https?://" <<<"$1"' _ "$instructions"
check "no secret values in ENV/ARG" \
  bash -c '! grep -E "^(ENV|ARG)" <<<"$1" | grep -qiE "(PASSWORD|SECRET|TOKEN|PRIVATE|API_?KEY)[A-Z_]*[=[:space:]]+[^[:space:]]"' _ "$instructions"
check ".dockerignore excludes .git, bin/obj, key files and env files" \
  bash -c '[[ -f $1 ]] && grep -qE "^\.git/?$" "$1" && grep -qE "bin/?$" "$1" && grep -qE "obj/?$" "$1" && grep -qE "\*\.jwk$" "$1" && grep -qE "\*\.pem$" "$1" && grep -qE "\.env$" "$1"' _ "$ignore"

if command -v hadolint >/dev/null; then
  check "hadolint" hadolint "$file"
else
  echo "skip hadolint (not installed)"
fi

if [[ $failures -gt 0 ]]; then
  echo "check-dockerfile: $failures check(s) failed"
  exit 1
fi
echo "check-dockerfile: all checks passed (static only: Docker cannot run here)"
