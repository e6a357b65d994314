#!/bin/sh
# `make compare`: stance-train against fastText and scikit-learn on the same
# training files. Reports accuracy and macro-F1 on each dev set and, when
# ../shared/data/benchmarks is present, 10-fold CV on SUBJ, CR and MPQA.
# Prints a markdown table and writes it to build/compare.md. Kept out of
# `make test`: it takes several minutes on two cores.
#
# Environment: BIN (required) holds stance-train; BENCH_DIR overrides the
# benchmark directory; COMPARE_TIMEOUT bounds the whole run (seconds,
# default 3600); STANCE_TRAIN_OPTS / SENTIMENT_TRAIN_OPTS / BENCH_TRAIN_OPTS
# override our settings (default: the recommended ones below).
set -eu
: "${BIN:?BIN must name the directory holding stance-train}"
cd "$(dirname "$0")/.."

# Our settings: the trainer's defaults plus a fixed C per model, so that no
# grid search runs here (see training/EXPERIMENTS.md for how they were chosen).
STANCE_TRAIN_OPTS=${STANCE_TRAIN_OPTS---C 1 --no-punct --scheme ovr --no-balance}
SENTIMENT_TRAIN_OPTS=${SENTIMENT_TRAIN_OPTS---C 1 --char 2-4}
# The benchmarks add the NB log-odds features (--mnb 10), which gain on all
# three there, lose on the stance dev set and tie on the sentiment one
# (training/EXPERIMENTS.md, section 5).
BENCH_TRAIN_OPTS=${BENCH_TRAIN_OPTS---C 1 --mnb 10}

PY=/usr/bin/python3
BENCH_DIR=${BENCH_DIR:-../shared/data/benchmarks}
TIMEOUT=${COMPARE_TIMEOUT:-3600}
OUT=build/compare.md

[ -x "$BIN/stance-train" ] || { echo "compare: $BIN/stance-train not built" >&2; exit 1; }
if ! [ -x "$PY" ] || ! "$PY" -c 'import sklearn, numpy' 2>/dev/null; then
    echo "compare: $PY with scikit-learn and numpy is needed (apt-get install python3-sklearn)" >&2
    exit 1
fi
set --
if ! command -v fasttext >/dev/null 2>&1; then
    echo "compare: fasttext not found (apt-get install fasttext); comparing without it" >&2
    set -- "$@" --no-fasttext
fi
if [ -f "$BENCH_DIR/subj.tsv" ] || [ -f "$BENCH_DIR/cr.tsv" ] || [ -f "$BENCH_DIR/mpqa.tsv" ]; then
    set -- "$@" --bench "$BENCH_DIR"
else
    echo "compare: no benchmarks at $BENCH_DIR; skipping SUBJ/CR/MPQA (set BENCH_DIR to point elsewhere)" >&2
fi

mkdir -p build
work=$(mktemp -d build/compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
rc=0
timeout --kill-after=10 "$TIMEOUT" "$PY" training/compare.py --bin "$BIN" \
    --corpus training/corpus --work "$work" --out "$OUT" --threads 2 \
    --stance-opts="$STANCE_TRAIN_OPTS" --sentiment-opts="$SENTIMENT_TRAIN_OPTS" \
    --bench-opts="$BENCH_TRAIN_OPTS" "$@" || rc=$?
end=$(date +%s)
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "compare: stopped after ${TIMEOUT}s (COMPARE_TIMEOUT)" >&2
elif [ "$rc" -eq 0 ]; then
    echo "compare: wrote $OUT in $((end - start))s" >&2
else
    echo "compare: failed (exit $rc) after $((end - start))s" >&2
fi
exit "$rc"
