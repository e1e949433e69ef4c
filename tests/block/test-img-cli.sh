#!/bin/bash
# kestrel-img command line: help texts, one-line errors with exit status 1,
# io command, info/map output, raw images.
. "$(dirname "$0")/../lib.sh"
K=$KESTREL_IMG
cd "$T_TMP" || exit 1
if [[ ! -x $K ]]; then
    fail setup "kestrel-img not built"
    exit 0
fi

# help
if $K --help | grep -q 'Commands:' && $K --help | grep -q 'compare'; then pass help; else fail help "no command list"; fi
ok=1
for c in create info check snapshot convert resize commit map compare io; do
    if ! $K $c --help | grep -q "^usage: kestrel-img $c"; then ok=0; echo "# $c --help"; fi
done
[[ $ok == 1 ]] && pass command_help || fail command_help "a command lacks --help"

# bad arguments: one line on stderr, exit status 1
bad() {
    local n=$1; shift
    "$K" "$@" > out.txt 2> err.txt
    local rc=$?
    local lines
    lines=$(wc -l < err.txt)
    if [[ $rc == 1 && $lines == 1 ]]; then pass "$n"; else fail "$n" "rc=$rc, $lines stderr lines: $(head -2 err.txt | tr '\n' ' ')"; fi
}
bad no_command
bad unknown_command frobnicate
bad create_no_size create x.qcow2
bad create_bad_size create x.qcow2 12Q
bad create_bad_format create -f vmdk x.img 1M
bad create_bad_option create -o cluster_size=3000 x.qcow2 1M
bad create_bad_compat create -o compat=2.0 x.qcow2 1M
bad create_unknown_o create -o frob=1 x.qcow2 1M
bad create_missing_backing create -b /nonexistent.qcow2 x.qcow2
bad info_missing_file info
bad info_nonexistent info /nonexistent.img
bad info_bad_output info --output=xml /nonexistent.img
bad check_bad_r check -r some x.qcow2
bad snapshot_no_op snapshot x.qcow2
bad convert_one_arg convert a
bad convert_c_raw convert -c -O raw a b
bad resize_no_size resize x.qcow2
bad io_unknown_cmd_missing_file io -c 'frob' /nonexistent.img
bad invalid_option info -Z x

# create/info/io on raw and qcow2
$K create -q -f raw r.img 1M
if [[ $(stat -c %s r.img) == 1048576 ]] && $K info r.img | grep -q 'file format: raw'; then pass create_raw; else fail create_raw "size/info"; fi
$K create -q x.qcow2 64M
if $K info x.qcow2 | grep -q 'virtual size: 64 MiB (67108864 bytes)'; then pass info_human; else fail info_human "$($K info x.qcow2 | head -3)"; fi
if $K io x.qcow2 -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k' -c 'write -z 64k 64k' -c 'read -P 0 64k 64k' -c flush -c 'discard 0 64k' -c 'read -P 0 0 64k' > out.txt; then
    pass io_commands
else
    fail io_commands "$(tail -1 out.txt)"
fi
$K io x.qcow2 -c 'write -P 1 0 4k' > /dev/null
if ! $K io x.qcow2 -c 'read -P 2 0 4k' > out.txt && grep -q 'Pattern verification failed' out.txt; then pass io_read_verify; else fail io_read_verify "mismatch not reported"; fi
if ! $K io -r x.qcow2 -c 'write 0 1' > /dev/null 2>&1; then pass io_read_only; else fail io_read_only "write accepted"; fi
$K io -s x.qcow2 -c 'write -P 7 0 4k' -c 'read -P 7 0 4k' > /dev/null
if $K io -r x.qcow2 -c 'read -P 1 0 4k' > /dev/null; then pass io_snapshot_mode; else fail io_snapshot_mode "snapshot-mode write reached the image"; fi
if $K map --output=json x.qcow2 | grep -q '"start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true'; then
    pass map_json
else
    fail map_json "$($K map --output=json x.qcow2 | head -2)"
fi
if [[ $($K check x.qcow2; echo $?) == *$'\n'0 || $($K check -q x.qcow2; echo $?) == 0 ]]; then pass check_clean; else fail check_clean "not clean"; fi
if [[ $($K check r.img >/dev/null 2>&1; echo $?) == 63 ]]; then pass check_raw_63; else fail check_raw_63 "exit status"; fi
$K snapshot -c a x.qcow2
if $K snapshot -l x.qcow2 | grep -q '^1 *a '; then pass snapshot_list; else fail snapshot_list "$($K snapshot -l x.qcow2)"; fi
bad snapshot_duplicate snapshot -c a x.qcow2
bad snapshot_apply_missing snapshot -a nope x.qcow2
exit 0
