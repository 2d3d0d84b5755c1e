#!/usr/bin/env bash
# Runs every micro-benchmark with a short in-process job and fails when a method allocates more
# bytes per operation than bench/baseline.json allows (or has no baseline entry).
#
#   bench/compare.sh                 # build, run (about 2 minutes on 2 cores), compare
#   bench/compare.sh --update        # same, then rewrite bench/baseline.json with what was measured
#   bench/compare.sh --no-run        # compare the reports of the last run only
#
# A method may exceed its baseline by ALLOC_TOLERANCE_BYTES (default 8). The smallest object on
# x64 is 24 B, so one more allocation per call always fails the check; the slack absorbs the few
# bytes per operation that background threads add to slow methods (tens of µs, so only thousands
# of operations per iteration) in an in-process run. Set ALLOC_TOLERANCE_BYTES=0 for exactness.
# IdentityModel_* rows are the library we compare against: printed, never gated.
#
# Environment: BENCH_ARTIFACTS_PATH (dotnet build output, default /tmp/art-bench),
# BENCH_RESULTS (BenchmarkDotNet reports, default /tmp/edgeverifier-bench), ALLOC_TOLERANCE_BYTES.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
baseline=$root/bench/baseline.json
artifacts=${BENCH_ARTIFACTS_PATH:-/tmp/art-bench}
results=${BENCH_RESULTS:-/tmp/edgeverifier-bench}
tolerance=${ALLOC_TOLERANCE_BYTES:-8}
update=0 run=1
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    --no-run) run=0 ;;
    *) echo "usage: $0 [--update] [--no-run]" >&2; exit 2 ;;
  esac
done

if [[ $run == 1 ]]; then
  rm -rf "$results"
  # The short job: 3 warm-up and 5 measured iterations of 200 ms, in-process (see BenchConfig.cs).
  # Allocated bytes per operation do not depend on the iteration count, so a short job is enough
  # to guard them; the timings of a short job are only indicative.
  dotnet run -c Release --project "$root/bench/EdgeVerifier.Benchmarks" --artifacts-path "$artifacts" -- \
    --filter '*' --warmupCount 3 --iterationCount 5 --iterationTime 200 --artifacts "$results"
fi

shopt -s nullglob
reports=("$results"/results/*-report.csv)
if [[ ${#reports[@]} == 0 ]]; then
  echo "compare.sh: no CSV report under $results/results" >&2
  exit 1
fi

# "Class.Method bytes" for every benchmark that ran: the CSV is ';'-separated, numbers are bare
# (BenchConfig prints units in the header only), and the Allocated column is "Allocated [B]".
measured=$(for report in "${reports[@]}"; do
  class=$(basename "$report" -report.csv); class=${class##*.}
  awk -F';' -v class="$class" '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Method") m = i; if ($i == "Allocated [B]") a = i }
              if (!m || !a) { print "missing Method or Allocated [B] column" > "/dev/stderr"; exit 1 }
              next }
    { v = $a; gsub(/[",]/, "", v); if (v == "-" || v == "") v = 0; print class "." $m, v }' "$report"
done | sort)

# baseline.json holds one "Class.Method": bytes pair per line.
expected=$(sed -n 's/^ *"\([^"]*\)": *\([0-9][0-9]*\),\{0,1\} *$/\1 \2/p' "$baseline" | sort)

status=0
printf '%-45s %10s %10s  %s\n' benchmark baseline measured verdict
while read -r name bytes; do
  limit=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$expected")
  allowed=$(( ${limit:-0} + tolerance ))
  if [[ $name == *.IdentityModel_* ]]; then
    verdict="info (the library compared against; not gated)"
  elif [[ -z $limit ]]; then
    verdict="FAIL: not in baseline.json"; status=1
  elif (( bytes > allowed )); then
    verdict="FAIL: +$(( bytes - limit )) B"; status=1
  elif (( bytes < limit )); then
    verdict="ok (-$(( limit - bytes )) B: lower the baseline)"
  else
    verdict=ok
  fi
  printf '%-45s %10s %10s  %s\n' "$name" "${limit:--}" "$bytes" "$verdict"
done <<<"$measured"

while read -r name _; do
  [[ -n $name ]] && ! grep -q "^$name " <<<"$measured" && echo "note: $name is in baseline.json but did not run"
done <<<"$expected"

if [[ $update == 1 ]]; then
  {
    echo "{"
    awk '{ printf "%s  \"%s\": %s", (NR > 1 ? ",\n" : ""), $1, $2 } END { print "" }' <<<"$measured"
    echo "}"
  } >"$baseline"
  echo "baseline.json rewritten from this run"
  exit 0
fi

if [[ $status != 0 ]]; then
  echo "compare.sh: allocations above baseline (reports: $results/results)" >&2
fi
exit $status
