#!/bin/bash
# Builds the oracle driver (tests/oracle/*.c) against build/libkestrel.a with
# the configured compiler and flags (sanitizers included): build.sh OUTPUT.
# Prints the compiler's complaints and fails when it does not build.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$1
mak() { sed -n "s/^$1 = //p" "$top/config.mak"; }
srcs=("$top"/tests/oracle/*.c)
# shellcheck disable=SC2046
exec $(mak CC) $(mak CFLAGS) -I"$top" -o "$out" "${srcs[@]}" \
    "$top/build/libkestrel.a" $(mak LDFLAGS) $(mak LIBS)
