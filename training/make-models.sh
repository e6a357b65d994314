#!/bin/sh
# Rebuilds the bundled models from training/corpus, reproducibly: fixed
# seed, fixed grid, and a creation time taken from the corpus's last commit
# (SOURCE_DATE_EPOCH) rather than the clock. Called by `make models`.
set -eu
: "${BIN:?BIN must name the directory holding stance-train}"
C=training/corpus
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct -- "$C" 2>/dev/null || true)
    [ -n "$SOURCE_DATE_EPOCH" ] || SOURCE_DATE_EPOCH=$(date +%s)
fi
export SOURCE_DATE_EPOCH

stance_data=""
for f in "$C"/stance_written_*.tsv "$C"/stance_petrarch2.tsv; do
    stance_data="$stance_data --data $f"
done

echo "== stance" >&2
# shellcheck disable=SC2086
"$BIN"/stance-train train $stance_data --dev "$C"/stance_dev_plover_part_a.tsv \
    --labels conciliatory,distrustful,escalatory,neutral \
    --name stance --out models/stance --folds 10 --grid --seed 1 ${STANCE_TRAIN_OPTS:-}

echo "== sentiment" >&2
"$BIN"/stance-train train --data "$C"/sentiment_newsmtsc_train.tsv \
    --dev "$C"/sentiment_dev_newsmtsc_devtest_mt.tsv \
    --labels negative,neutral,positive \
    --name sentiment --out models/sentiment --folds 10 --grid --seed 1 ${SENTIMENT_TRAIN_OPTS:-}
