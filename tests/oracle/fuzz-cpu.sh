#!/bin/bash
# make fuzz-cpu: the differential oracle, open-ended. Random cases from a
# random seed (or FUZZ_SEED) until FUZZ_SECONDS (default 300) have passed or
# FUZZ_COUNT cases per mode were run; every divergence becomes a regression
# case in tests/oracle/regressions/ (FUZZ_OUT to put them elsewhere), which
# `make check` then replays. Known divergences (known-divergences.txt) are
# counted, not saved. FUZZ_MODE=64|32|16|all, FUZZ_BACKEND=interp|x86_64|both.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
out=${FUZZ_OUT:-$top/tests/oracle/regressions}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
if ! tests/oracle/build.sh "$tmp/oracle-cpu"; then
    echo "fuzz-cpu: the oracle driver does not build" >&2
    exit 1
fi
args=(-s "$seed" -m "${FUZZ_MODE:-all}" -b "${FUZZ_BACKEND:-both}" -o "$out"
      -k tests/oracle/known-divergences.txt)
if [[ -n ${FUZZ_COUNT:-} ]]; then
    args+=(-n "$FUZZ_COUNT")
    [[ -n ${FUZZ_SECONDS:-} ]] && args+=(-t "$FUZZ_SECONDS")
else
    args+=(-t "${FUZZ_SECONDS:-300}")
fi
echo "fuzz-cpu: seed $seed (FUZZ_SEED=$seed reproduces it), regressions to $out"
"$tmp/oracle-cpu" "${args[@]}"
status=$?
new=$(find "$out" -name "*-$seed-*.case" 2>/dev/null | wc -l)
echo "fuzz-cpu: $new new regression case(s) written"
exit $status
