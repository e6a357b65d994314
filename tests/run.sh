#!/bin/sh
# Runs every test: the C unit-test binaries in $BIN, then each Python
# integration suite in tests/integration against the real programs in $BIN.
# Prints one line per suite and a closing "N passed, N failed" total.
set -u
: "${BIN:?BIN must name the directory holding the built programs}"
export BIN
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS UBSAN_OPTIONS
BIN=$(cd "$BIN" && pwd)
PY=/usr/bin/python3
passed=0 failed=0 suites_failed=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

add() { # suite-name exit-code passed failed
    passed=$((passed + $3)); failed=$((failed + $4))
    if [ "$2" != 0 ] && [ "$4" = 0 ]; then failed=$((failed + 1)); fi
    [ "$2" != 0 ] && suites_failed="$suites_failed $1"
    return 0
}

for t in "$BIN"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    "$t" >"$log/$name" 2>&1; rc=$?
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -n 1)
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -n "$line" ] || { p=0; f=1; }
    echo "unit $name: $p passed, $f failed (exit $rc)"
    [ "$rc" != 0 ] && sed 's/^/    /' "$log/$name" | tail -n 30
    add "$name" "$rc" "$p" "$f"
done

for t in tests/integration/test_*.py; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .py)
    $PY -m unittest -v "tests.integration.$name" >"$log/$name" 2>&1; rc=$?
    ran=$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$log/$name" | tail -n 1)
    bad=$(sed -nE 's/^FAILED \((.*)\)/\1/p' "$log/$name" | tr ',' '\n' | sed -nE 's/.*(failures|errors)=([0-9]+).*/\2/p' | awk '{s+=$1} END {print s+0}')
    ran=${ran:-0}; bad=${bad:-0}
    echo "integration $name: $((ran - bad)) passed, $bad failed (exit $rc)"
    [ "$rc" != 0 ] && grep -vE '^(test_.* \.\.\. ok)$' "$log/$name" | tail -n 60 | sed 's/^/    /'
    add "$name" "$rc" "$((ran - bad))" "$bad"
done

[ -n "$suites_failed" ] && echo "failing suites:$suites_failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
