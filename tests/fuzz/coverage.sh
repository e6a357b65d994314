#!/bin/sh
# Measures what the fuzz corpus covers: builds fuzz_request with clang's
# source-based coverage (no sanitizers), runs every input of a corpus
# directory once (default build/fuzz/corpus, the working copy run.sh grows;
# tests/fuzz/corpus for the seeds alone), and prints llvm-cov's line,
# function and branch figures for the library files a request reaches.
set -eu
cd "$(dirname "$0")/../.."

CC=${FUZZ_CC:-clang}
OUT=build/fuzz/cov
CORPUS=${1:-build/fuzz/corpus}
PKGS="libzmq libcjson yaml-0.1 libutf8proc"
# llvm-profdata and llvm-cov must match clang's version.
V=$($CC -dumpversion | cut -d. -f1)
PROFDATA=$(command -v "llvm-profdata-$V" || command -v llvm-profdata)
COV=$(command -v "llvm-cov-$V" || command -v llvm-cov)
REACHED="lib/proto.c lib/doc.c lib/text.c lib/split.c lib/speaker.c lib/score.c lib/feat.c lib/tok.c"

[ -d "$CORPUS" ] || { echo "coverage.sh: no corpus at $CORPUS (run tests/fuzz/run.sh first)" >&2; exit 2; }
mkdir -p "$OUT"
# shellcheck disable=SC2046,SC2086
$CC -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
    -Ilib -I/usr/include/libsvm $(pkg-config --cflags $PKGS) \
    tests/fuzz/fuzz_request.c lib/*.c $(pkg-config --libs $PKGS) -lsvm -lpthread -lm \
    -o "$OUT/fuzz_request"
rm -f "$OUT"/*.profraw
LLVM_PROFILE_FILE="$OUT/run.profraw" "$OUT/fuzz_request" -runs=0 "$CORPUS" >"$OUT/run.log" 2>&1
"$PROFDATA" merge -sparse "$OUT/run.profraw" -o "$OUT/run.profdata"
# shellcheck disable=SC2086
"$COV" report "$OUT/fuzz_request" -instr-profile="$OUT/run.profdata" $REACHED
