#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what is missing, publishes the Native AOT binary
# (any trim/AOT warning fails the build), checks the container file, then runs the xUnit suite
# (unit, in-process HTTP on 127.0.0.1, and smoke tests of the published binary). The hot path's
# allocations are checked against bench/baseline.json with BenchmarkDotNet's memory diagnoser.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/install-deps.sh
echo "== publish (Native AOT, warnings are errors)"
dotnet publish src/EdgeVerifier -c Release -r linux-x64 -o artifacts/publish -nologo
if [[ -f scripts/check-dockerfile.sh ]]; then
  echo "== Dockerfile.aot check"
  bash scripts/check-dockerfile.sh
fi
echo "== allocation baseline (BenchmarkDotNet memory diagnoser vs bench/baseline.json)"
bash bench/compare.sh
echo "== tests"
EDGEVERIFIER_BINARY="$PWD/artifacts/publish/edgeverifier" dotnet test EdgeVerifier.sln -c Release -nologo
