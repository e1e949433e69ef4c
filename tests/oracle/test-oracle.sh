#!/bin/bash
# The differential oracle in `make check`: the translator (both backends)
# against the host CPU on the regression cases of tests/oracle/regressions
# and on a bounded number of random cases from a fixed seed, in 64-bit,
# 32-bit (compatibility) and 16-bit protected mode; system snippets at CPL 0
# against KVM. Divergences listed in
# tests/oracle/known-divergences.txt are reported as SKIP with the bug.
# ORACLE_CASES sets the number of random cases per mode (default 8000).
source "$(dirname "$0")/../lib.sh"
top=${TOP:-$PWD}
if [[ $(uname -m) != x86_64 ]]; then
    skip oracle "host is not x86-64: no hardware oracle"
    exit 0
fi
if [[ ! -f $BUILD/libkestrel.a ]]; then
    skip oracle "build/libkestrel.a missing: run make first"
    exit 0
fi
if ! "$top/tests/oracle/build.sh" "$T_TMP/oracle-cpu" > "$T_TMP/cc.log" 2>&1; then
    fail build "$(grep -m5 error "$T_TMP/cc.log")"
    exit 0
fi
pass build
known=$top/tests/oracle/known-divergences.txt
regs=("$top"/tests/oracle/regressions/*.case)
# oracle-cpu exits 1 after printing FAIL lines; anything else is a crash
run() {
    "$T_TMP/oracle-cpu" -k "$known" "$@"
    local rc=$?
    [[ $rc -le 1 ]] || fail "run$1" "oracle-cpu $* exited with status $rc"
}
if [[ -f ${regs[0]} ]]; then
    run -r "${regs[@]}"
fi
run -s 1 -n "${ORACLE_CASES:-8000}"
# system snippets against KVM (SKIP with the reason when /dev/kvm is unusable)
run -K
exit 0
