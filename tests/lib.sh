# Helpers for shell tests: source this, then call pass/fail/skip/check.
# Each test script prints PASS/FAIL/SKIP lines that tests/run.sh counts.
: "${KESTREL:=$PWD/kestrel}" "${KESTREL_IMG:=$PWD/kestrel-img}" "${BUILD:=$PWD/build}"
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT
pass() { echo "PASS $T_NAME/$1"; }
fail() { echo "FAIL $T_NAME/$1: ${2:-}"; }
skip() { echo "SKIP $T_NAME/$1: $2"; }
# check NAME CMD...: pass when the command succeeds
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# run_kestrel TIMEOUT ARGS...: runs kestrel with a timeout, output in $T_TMP/out, status in $RC
run_kestrel() {
    local t=$1; shift
    timeout -k 5 "$t" "$KESTREL" "$@" > "$T_TMP/out" 2>&1 < /dev/null
    RC=$?
}
