#!/bin/bash
# Builds the softfloat differential fuzzer (tests/fpu/fpu-fuzz.c) against
# build/libkestrel.a and runs a short fixed-seed campaign. Longer runs:
#   FPU_FUZZ_SEED=7 FPU_FUZZ_COUNT=100000000 $T_TMP/fpu-fuzz
# and FPU_FUZZ_DUMP=1 regenerates tests/fpu/vectors.inc (see test-softfloat-vectors.c).
source "$(dirname "$0")/../lib.sh"
if [[ $(uname -m) != x86_64 ]]; then
    skip fuzz "host is not x86-64: no hardware oracle"
    exit 0
fi
if [[ ! -f $BUILD/libkestrel.a ]]; then
    skip fuzz "build/libkestrel.a missing: run make first"
    exit 0
fi
# Build with the configured compiler and flags (sanitizers included).
mak() { sed -n "s/^$1 = //p" "${TOP:-.}/config.mak"; }
if ! $(mak CC) $(mak CFLAGS) -I"${TOP:-.}" -o "$T_TMP/fpu-fuzz" tests/fpu/fpu-fuzz.c \
        "$BUILD/libkestrel.a" $(mak LDFLAGS) $(mak LIBS) 2> "$T_TMP/cc.log"; then
    fail build "$(head -5 "$T_TMP/cc.log")"
    exit 0
fi
pass build
for seed in 1 2 3; do
    if FPU_FUZZ_SEED=$seed FPU_FUZZ_COUNT=100000 "$T_TMP/fpu-fuzz" > "$T_TMP/out" 2>&1; then
        pass "seed-$seed"
    else
        fail "seed-$seed" "$(head -3 "$T_TMP/out" | tr '\n' ' ')"
    fi
done
