#!/bin/sh
# Rebuilds the bundled models from training/corpus, reproducibly: fixed
# seeds, a fixed grid, and a creation time taken from the corpus's last
# commit (SOURCE_DATE_EPOCH) rather than the clock. Called by `make models`.
# The settings below were chosen by measurement (training/EXPERIMENTS.md);
# the dev files are evaluated, never trained on or tuned against.
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

echo "== stance: C chosen by 5-fold cross-validated macro-F1" >&2
# shellcheck disable=SC2086
"$BIN"/stance-train train $stance_data --dev "$C"/stance_dev_plover_part_a.tsv \
    --labels conciliatory,distrustful,escalatory,neutral \
    --name stance --out models/stance --folds 5 --grid --seed 1 ${STANCE_TRAIN_OPTS:-}

# A grid on 8,600 noisy sentences costs tens of minutes of libsvm time;
# C=3 comes from the sweep recorded in training/EXPERIMENTS.md.
echo "== sentiment" >&2
"$BIN"/stance-train train --data "$C"/sentiment_newsmtsc_train.tsv ${SENTIMENT_EXTRA_DATA-"--data $C/sentiment_written_news.tsv"} \
    --dev "$C"/sentiment_dev_newsmtsc_devtest_mt.tsv \
    --labels negative,neutral,positive \
    --name sentiment --out models/sentiment --folds 5 --C 3 --seed 1 ${SENTIMENT_TRAIN_OPTS:-}
