#!/bin/sh
# Builds the libFuzzer target tests/fuzz/fuzz_request.c with ASan and UBSan
# (lib/*.c compiled with clang into build/fuzz/), then fuzzes for
# FUZZ_SECONDS (default 60) over build/fuzz/corpus, a working copy of the
# seed corpus that grows across runs. A crash, leak, timeout or broken
# promise is copied into tests/fuzz/regressions/ under a name saying what
# broke, and the script exits 1. `make fuzz` calls it.
#
# Environment: FUZZ_SECONDS, FUZZ_MAX_LEN (default 16384 bytes per input),
# FUZZ_CC (default clang), FUZZ_ARGS (more libFuzzer flags), FUZZ_CFLAGS
# (more compiler flags, e.g. -fno-sanitize=KIND to fuzz past a known bug),
# FUZZ_IGNORE (invariant tags, comma-separated, that no longer fail: the
# same for a known broken promise), FUZZ_CORPUS_MAX (default 3000 inputs),
# STANCE_FUZZ_MODEL (bundle directories separated by ':'; default
# models/stance:models/sentiment, those that exist).
set -eu
cd "$(dirname "$0")/../.."

CC=${FUZZ_CC:-clang}
OUT=build/fuzz
SECS=${FUZZ_SECONDS:-60}
MAXLEN=${FUZZ_MAX_LEN:-16384}
PKGS="libzmq libcjson yaml-0.1 libutf8proc"

command -v "$CC" >/dev/null 2>&1 || {
    echo "run.sh: $CC not found (make fuzz installs clang and libclang-rt-14-dev)" >&2
    exit 2
}
# shellcheck disable=SC2086
PKG_CFLAGS=$(pkg-config --cflags $PKGS)
# shellcheck disable=SC2086
PKG_LIBS=$(pkg-config --libs $PKGS)
WARN="-std=c11 -D_GNU_SOURCE -Wall -Wextra"
SAN="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
EXTRA=${FUZZ_CFLAGS:-}   # last, so that -fno-sanitize=KIND wins
INC="-Ilib -I/usr/include/libsvm $PKG_CFLAGS"

# The library gets coverage instrumentation without libFuzzer's main
# (fuzzer-no-link); only the target links -fsanitize=fuzzer. An object is
# rebuilt when its source, any header or this script is newer, or the
# flags changed.
newer() { [ -n "$(find "$1" -prune -newer "$2")" ]; }
mkdir -p "$OUT/lib" "$OUT/corpus" "$OUT/artifacts"
objs=""
for src in lib/*.c; do
    obj="$OUT/lib/$(basename "$src" .c).o"
    stale=0
    if [ ! -f "$obj" ] || newer "$src" "$obj" || newer tests/fuzz/run.sh "$obj" ||
        [ "$(cat "$OUT/flags" 2>/dev/null)" != "$SAN $EXTRA" ]; then
        stale=1
    else
        for h in lib/*.h; do
            newer "$h" "$obj" && { stale=1; break; }
        done
    fi
    if [ "$stale" = 1 ]; then
        # shellcheck disable=SC2086
        $CC $WARN $SAN -fsanitize=fuzzer-no-link,address,undefined $EXTRA $INC -c "$src" -o "$obj"
    fi
    objs="$objs $obj"
done
echo "$SAN $EXTRA" >"$OUT/flags"
# shellcheck disable=SC2086
$CC $WARN $SAN -fsanitize=fuzzer,address,undefined $EXTRA $INC tests/fuzz/fuzz_request.c $objs \
    $PKG_LIBS -lsvm -lpthread -lm -o "$OUT/fuzz_request"

# Seeds are copied in, never the other way: the committed corpus stays
# small and hand-written.
cp tests/fuzz/corpus/* "$OUT/corpus/"

LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}abort_on_error=0"
export LSAN_OPTIONS UBSAN_OPTIONS ASAN_OPTIONS

rm -f "$OUT"/artifacts/*
log="$OUT/fuzz.log"
echo "fuzzing for ${SECS}s (log: $log)" >&2
rc=0
# shellcheck disable=SC2086
"$OUT/fuzz_request" -max_total_time="$SECS" -max_len="$MAXLEN" -timeout=10 \
    -rss_limit_mb=2048 -use_value_profile=1 -print_final_stats=1 \
    -dict=tests/fuzz/request.dict -artifact_prefix="$OUT/artifacts/" \
    ${FUZZ_ARGS:-} "$OUT/corpus" >"$log" 2>&1 || rc=$?

grep -E '^(stat::|#[0-9]+ +DONE|Done )' "$log" | sed 's/^/  /' >&2 || true
grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 | sed 's/^/  last: /' >&2 || true

# Names a kept input after what broke: the invariant's tag, or the
# sanitizer's kind and the function (or file) where it happened.
describe() {
    tag=$(sed -nE 's/^INVARIANT ([A-Za-z0-9_-]+):.*/\1/p' "$log" | head -n 1)
    if [ -n "$tag" ]; then
        echo "invariant-$tag"
        return
    fi
    kind=$(sed -nE 's/^SUMMARY: [A-Za-z]+: ([A-Za-z0-9_-]+).*/\1/p' "$log" | head -n 1)
    # The innermost frame in our code, not in libc or a sanitizer.
    where=$(sed -nE 's@^ *#[0-9]+ 0x[0-9a-f]+ in ([A-Za-z0-9_]+) [^ ]*/?(lib|tests|daemon)/.*@\1@p' "$log" | head -n 1)
    [ -n "$kind" ] || kind=crash
    echo "$kind${where:+-$where}"
}

kept=0
for a in "$OUT"/artifacts/crash-* "$OUT"/artifacts/leak-* "$OUT"/artifacts/timeout-* "$OUT"/artifacts/oom-*; do
    [ -f "$a" ] || continue
    mkdir -p tests/fuzz/regressions
    base=$(basename "$a")
    sum=$(sha1sum "$a" | cut -c1-8)
    # An input already kept (perhaps renamed by hand) is not kept twice.
    for k in tests/fuzz/regressions/*; do
        if [ -f "$k" ] && cmp -s "$a" "$k"; then
            echo "run.sh: already kept as $k" >&2
            kept=$((kept + 1))
            continue 2
        fi
    done
    name="${base%%-*}-$(describe)-$sum"
    case $base in crash-*) name="$(describe)-$sum" ;; esac
    cp "$a" "tests/fuzz/regressions/$name"
    echo "run.sh: kept tests/fuzz/regressions/$name" >&2
    kept=$((kept + 1))
done

if [ "$rc" != 0 ] || [ "$kept" != 0 ]; then
    echo "run.sh: the fuzzer stopped with exit $rc; report:" >&2
    grep -E -A 30 '^(INVARIANT |==[0-9]+==ERROR|SUMMARY:|.*runtime error:)' "$log" | head -n 60 | sed 's/^/  /' >&2
    exit 1
fi
n=$(find "$OUT/corpus" -type f | wc -l)
echo "run.sh: no crash in ${SECS}s; corpus $n inputs" >&2

# libFuzzer first runs every input of the working corpus once, even past
# FUZZ_SECONDS, so a corpus grown over many runs would stretch every run:
# past FUZZ_CORPUS_MAX inputs it is cut down to a set with the same
# coverage.
if [ "$n" -gt "${FUZZ_CORPUS_MAX:-3000}" ]; then
    echo "run.sh: minimising the working corpus" >&2
    rm -rf "$OUT/corpus.new"
    mkdir "$OUT/corpus.new"
    if "$OUT/fuzz_request" -merge=1 -max_len="$MAXLEN" -timeout=10 -rss_limit_mb=2048 \
        "$OUT/corpus.new" "$OUT/corpus" >"$OUT/merge.log" 2>&1; then
        rm -rf "$OUT/corpus"
        mv "$OUT/corpus.new" "$OUT/corpus"
        echo "run.sh: corpus now $(find "$OUT/corpus" -type f | wc -l) inputs" >&2
    fi
fi
