#!/bin/bash
# Runs the whole test suite and ends with "N passed, N failed, N skipped".
# Every test reports lines "PASS name", "FAIL name: why" or "SKIP name: reason":
#   - unit test binaries build/tests/unit/test-* (tests/unit/harness.c)
#   - scripts tests/*/test-*.sh (sourcing tests/lib.sh), run from the top directory
# TESTS=pattern limits the run to tests whose file name matches the glob pattern.
set -u
cd "$(dirname "$0")/.."
# Sanitizer builds: memory errors and undefined behaviour fail a test; the
# memory still held at exit by short-lived processes is not reported.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export KESTREL="$PWD/kestrel" KESTREL_IMG="$PWD/kestrel-img" BUILD="$PWD/build" TOP="$PWD"
pass=0; fail=0; skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
    local name=$1; shift
    [[ -n ${TESTS:-} && $name != $TESTS ]] && return
    local start=$SECONDS
    # a hung test must not eat CI's whole time: each file gets a bound (not
    # a timing assertion; the slowest, test-linux-smp, needs ~5 min)
    timeout -k 10 "${TEST_TIMEOUT:-1200}" "$@" > "$log" 2>&1
    local rc=$?
    if [[ $rc == 124 || $rc == 137 ]]; then
        echo "FAIL $name: still running after ${TEST_TIMEOUT:-1200}s, stopped" >> "$log"
    fi
    local p f s
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
    if [[ $rc != 0 && $f == 0 ]]; then
        echo "FAIL $name: exited with status $rc" >> "$log"; f=1
    fi
    if [[ $f != 0 ]]; then
        sed -n '/^FAIL /,/^\(PASS\|SKIP\) /p' "$log" | grep -v '^\(PASS\|SKIP\) ' | head -40
        echo "  (last lines of $name)"; tail -15 "$log" | sed 's/^/  | /'
    fi
    grep '^SKIP ' "$log"
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-40s %3d passed %3d failed %3d skipped  %4ds\n' "$name" "$p" "$f" "$s" $((SECONDS - start))
}

for t in build/tests/unit/test-*; do
    [[ -x $t && ! -d $t && $t != *.d && $t != *.o ]] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/*/test-*.sh; do
    [[ -f $t ]] || continue
    run_one "$(basename "$t" .sh)" bash "$t"
done

echo "$pass passed, $fail failed, $skip skipped"
[[ $fail == 0 ]]
