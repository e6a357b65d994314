#!/bin/sh
# `make bench` (issue 5): every figure measured in one run, each next to a
# peer measured in the same run, so that the ratios hold on a noisy machine.
# See docs/bench.md for what each figure means.
#
#   BIN=build/rel/bin sh bench/run.sh
#
# Knobs (environment; with the defaults a run takes 2 to 5 minutes on 2 cores,
# plus about 1.5 minutes the first time to train the scikit-learn SVC):
#   BENCH_N          sentences in the fixed sentence file (100000)
#   BENCH_SPEED_N    sentences for the in-process speed figure (5000; libsvm
#                    runs at a few hundred sentences/s, and stance-train speed
#                    scores every sentence through both paths, up to 20000)
#   BENCH_SVC_N      slice labelled by the SVC(probability) peer (10000)
#   BENCH_REQ        single-sentence requests per stanced run (20000)
#   BENCH_PEER_REQ   single-sentence requests per peer run (3000)
#   BENCH_ROUNDS     alternating rounds of the daemon figures (3)
#   BENCH_DOC_REQ    requests per round of the document-mode figure (3000)
#   BENCH_SENTIMENT  the sentiment bundle to use (models/sentiment); when it
#                    is missing, the figures that need it say so
#
# Output: a summary table on stdout, build/bench/results.md, and the raw
# figures in build/bench/results.jsonl. Exit status 1 when a step failed
# (a request error, a crash, a non-zero exit), not when a target is missed. Only 127.0.0.1 is used; every
# server started here is stopped on exit; every step is bounded in time.
set -u
: "${BIN:?BIN must name the directory holding the built programs}"
BIN=$(cd "$BIN" && pwd)
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
OUT=build/bench
R=$OUT/results.jsonl
N=${BENCH_N:-100000}
SPEED_N=${BENCH_SPEED_N:-5000}
SVC_N=${BENCH_SVC_N:-10000}
REQ=${BENCH_REQ:-20000}
PEER_REQ=${BENCH_PEER_REQ:-3000}
ROUNDS=${BENCH_ROUNDS:-3}
DOC_REQ=${BENCH_DOC_REQ:-3000}
# One thread for numpy/BLAS so the Python peers use one core, as ours do
# outside the daemon.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS

mkdir -p "$OUT"
: >"$R"
START=$(date +%s)

# ---- servers: started in the background, always stopped ----
PIDS=""
forget() { _l=""; for _p in $PIDS; do [ "$_p" = "$1" ] || _l="$_l $_p"; done; PIDS=$_l; }
# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL; sets STOP_RC.
stop_pid() {
    STOP_RC=""
    if kill -TERM "$1" 2>/dev/null; then
        _i=0
        while kill -0 "$1" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
        kill -0 "$1" 2>/dev/null && { kill -KILL "$1" 2>/dev/null; STOP_RC=killed; }
    fi
    wait "$1" 2>/dev/null
    _rc=$?
    [ -n "$STOP_RC" ] || STOP_RC=$_rc
    forget "$1"
}
# The step running now, in the background (see jrun) so that a signal is
# handled at once rather than when the step ends.
CHILD=""
# shellcheck disable=SC2317  # called from the traps
cleanup() {
    [ -n "$CHILD" ] && { kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; CHILD=""; }
    for _p in $PIDS; do stop_pid "$_p"; done
}
trap cleanup EXIT
trap 'say "interrupted; stopping"; cleanup; exit 130' INT TERM HUP

say() { printf '%s [%4ds] %s\n' "==" $(($(date +%s) - START)) "$*" >&2; }
rec() { printf '%s\n' "$1" >>"$R"; }
# jrun CMD...: runs CMD (bounded by its own timeout) and sets J to its last
# line of output if that is a JSON object, else to an error object.
jrun() {
    "$@" >"$OUT/last.out" 2>"$OUT/last.err" </dev/null &
    CHILD=$!
    wait "$CHILD"
    CHILD=""
    J=$(tail -n 1 "$OUT/last.out")
    case "$J" in
    '{'*) ;;
    *) J="{\"error\":$(tail -c 300 "$OUT/last.err" | $PY -c 'import json,sys;print(json.dumps(sys.stdin.read()))')}" ;;
    esac
}
# quiet CMD...: runs CMD in the background, output discarded, and waits.
quiet() {
    "$@" >/dev/null 2>&1 </dev/null &
    CHILD=$!
    wait "$CHILD"
    _rc=$?
    CHILD=""
    return $_rc
}

# wait_ping ENDPOINT PID: up to 30 s for a ping reply.
wait_ping() {
    _i=0
    while [ $_i -lt 60 ]; do
        kill -0 "$2" 2>/dev/null || return 1
        "$BIN/stance" ping --endpoint "$1" --timeout 500 >/dev/null 2>&1 && return 0
        sleep 0.5
        _i=$((_i + 1))
    done
    return 1
}

# start_stanced NAME MODELS_YAML: a daemon on a free loopback port; sets EP, SPID.
start_stanced() {
    for _try in 1 2 3; do
        EP="tcp://127.0.0.1:$($PY bench/util.py port)"
        cat >"$OUT/$1.yaml" <<EOF
endpoints:
  - "$EP"
log_level: warn
limits:
  max_message_bytes: 268435456
  max_texts: 100000
  max_queue: 100000
  max_sentences: 10000000
models:
$2
EOF
        "$BIN/stanced" --config "$OUT/$1.yaml" >/dev/null 2>"$OUT/$1.log" &
        SPID=$!
        PIDS="$PIDS $SPID"
        wait_ping "$EP" "$SPID" && return 0
        stop_pid "$SPID"
    done
    say "stanced ($1) did not start; its log:"
    cat "$OUT/$1.log" >&2
    return 1
}

# start_peer [--echo]: the pyzmq + scikit-learn server, or with --echo the
# same loop answering at once with no work; sets EP, SPID.
start_peer() {
    _serve="--model $OUT/sk_linearsvc.pkl" _log=peer
    [ "${1:-}" = --echo ] && _serve=--echo _log=echo
    for _try in 1 2 3; do
        EP="tcp://127.0.0.1:$($PY bench/util.py port)"
        # shellcheck disable=SC2086
        $PY bench/peer_server.py --endpoint "$EP" $_serve \
            --max-seconds 900 >/dev/null 2>"$OUT/$_log.log" &
        SPID=$!
        PIDS="$PIDS $SPID"
        wait_ping "$EP" "$SPID" && return 0
        stop_pid "$SPID"
    done
    say "peer server ($_log) did not start; its log:"
    cat "$OUT/$_log.log" >&2
    return 1
}

# bench SERVER CASE ARGS...: one `stance bench` run against EP (served by
# SPID), bounded to 90 s; records its figures, the CPU time the server
# spent during the run and the CPU time of the load generator itself.
bench() {
    _s=$1 _c=$2
    shift 2
    say "stance bench ($_s, $_c): $*"
    jrun $PY bench/util.py cpu --pid "$SPID"
    _cpu0=$J
    jrun $PY bench/util.py time --timeout 150 --out "$OUT/bench.out" -- \
        "$BIN/stance" bench --endpoint "$EP" --json --timeout 20000 --duration 90 "$@"
    _t=$J
    jrun $PY bench/util.py cpu --pid "$SPID"
    _cpu1=$J
    J=$(tail -n 1 "$OUT/bench.out")
    case "$J" in '{'*) ;; *) J="{\"error\":\"no figures from stance bench\"}" ;; esac
    rec "{\"k\":\"daemon\",\"server\":\"$_s\",\"case\":\"$_c\",\"round\":${ROUND:-1},\"bench\":$J,\"client\":$_t,\"server_cpu0\":$_cpu0,\"server_cpu1\":$_cpu1}"
}

hwm() { jrun $PY bench/util.py hwm --pid "$SPID"; rec "{\"k\":\"mem\",\"what\":\"$1\",\"m\":$J}"; }

# ---- 0. inputs ----
[ -f models/stance/manifest.yaml ] || { echo "bench: models/stance is missing; run make models" >&2; exit 1; }
say "sentence file: $N sentences from training/corpus/*.tsv, seed 1"
rec "{\"k\":\"meta\",\"date\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"host\":\"$(uname -srm)\",\"cpus\":$(getconf _NPROCESSORS_ONLN),\"load_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"commit\":\"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\"}"
jrun $PY bench/util.py sentences --out "$OUT/sentences.txt" --n "$N" --seed 1
rec "{\"k\":\"corpus\",\"m\":$J,\"sha256\":\"$(sha256sum "$OUT/sentences.txt" | cut -c1-16)\"}"
$PY bench/util.py head --in "$OUT/sentences.txt" --out "$OUT/speed.txt" --n "$SPEED_N" >/dev/null
# libsvm's kernel path on the character n-gram sentiment model runs at a few
# dozen sentences/s, so that model gets a fifth of the sentences.
$PY bench/util.py head --in "$OUT/sentences.txt" --out "$OUT/speed_small.txt" \
    --n $((SPEED_N / 5)) >/dev/null
$PY bench/util.py articles --out-docs "$OUT/articles.txt" --out-sents "$OUT/article_sentences.txt" \
    --per 20 --count 200 >"$OUT/articles.json"

# The sentiment bundle may be missing (being retrained); then the figures
# that need it say so instead of failing the run.
SENT_DIR=${BENCH_SENTIMENT:-models/sentiment}
[ -f "$SENT_DIR/manifest.yaml" ] || SENT_DIR=""
rec "{\"k\":\"sentiment\",\"dir\":\"${SENT_DIR:-missing}\"}"

# ---- 1. in-process scoring speed ----
for m in stance sentiment; do
    d=models/$m
    [ $m = sentiment ] && d=${SENT_DIR:-models/sentiment}
    [ -f "$d/manifest.yaml" ] || { rec "{\"k\":\"speed\",\"model\":\"$m\",\"m\":{\"error\":\"$d missing\"}}"; continue; }
    in=$OUT/speed.txt
    [ $m = sentiment ] && in=$OUT/speed_small.txt
    say "in-process speed, $m: fast scorer vs libsvm on $(wc -l <"$in") sentences"
    jrun timeout -k 5 300 "$BIN/stance-train" speed --model "$d" --input "$in" --json
    rec "{\"k\":\"speed\",\"model\":\"$m\",\"m\":$J}"
done

# ---- 2. whole-process labelling ----
# The same training files as the stance bundle (its manifest), else make-models.sh's.
FILES=$(sed -n 's/^  files: \[\(.*\)\]$/\1/p' models/stance/manifest.yaml | tr -d '" ' | tr ',' ' ')
TRAIN=""
for f in $FILES; do [ -f "training/corpus/$f" ] && TRAIN="$TRAIN training/corpus/$f"; done
[ -n "$TRAIN" ] || TRAIN="$(ls training/corpus/stance_written_*.tsv) training/corpus/stance_petrarch2.tsv"
C=$(sed -n 's/^  C: \([0-9.eE+-]*\)$/\1/p' models/stance/manifest.yaml | head -n 1)
[ -n "$C" ] || C=1
TRAIN=${TRAIN# }
rec "{\"k\":\"train\",\"files\":\"$(echo "$TRAIN" | sed 's|training/corpus/||g')\",\"C\":$C}"

say "fastText: train (untimed)"
# shellcheck disable=SC2086
awk -F '\t' 'NF >= 2 && $2 != "" { print "__label__" $1 " " $2 }' $TRAIN >"$OUT/ft_train.txt"
FT_ARGS="-wordNgrams 2 -dim 50 -epoch 25 -lr 0.5 -minCount 1 -bucket 200000 -loss softmax -thread 1 -seed 1"
rm -f "$OUT/ft.bin"
# shellcheck disable=SC2086
quiet timeout -k 5 300 fasttext supervised -input "$OUT/ft_train.txt" -output "$OUT/ft" $FT_ARGS -verbose 0 ||
    rec "{\"k\":\"label\",\"sys\":\"fasttext\",\"n\":$N,\"t\":{\"error\":\"fasttext supervised failed\"}}"
rec "{\"k\":\"ftargs\",\"args\":\"$FT_ARGS\"}"
# Alternating runs, best of 3 each, so that a burst of load from elsewhere
# on the machine does not fall on one side only. Ours scores on two threads
# (--threads 2, output in input order); the peers label on one.
for rep in 1 2 3; do
    say "label $N sentences, round $rep: stance-train predict, then fasttext predict-prob"
    jrun $PY bench/util.py time --timeout 300 --out "$OUT/ours.labels" -- \
        "$BIN/stance-train" predict --threads 2 --model models/stance --input "$OUT/sentences.txt"
    rec "{\"k\":\"label\",\"sys\":\"ours\",\"rep\":$rep,\"n\":$N,\"t\":$J}"
    [ -f "$OUT/ft.bin" ] || continue
    jrun $PY bench/util.py time --timeout 300 --out "$OUT/fasttext.labels" -- \
        fasttext predict-prob "$OUT/ft.bin" "$OUT/sentences.txt" 4
    rec "{\"k\":\"label\",\"sys\":\"fasttext\",\"rep\":$rep,\"n\":$N,\"t\":$J}"
done

say "scikit-learn: train SVC(linear, probability) and LinearSVC (untimed, C=$C)"
# shellcheck disable=SC2086
jrun timeout -k 5 400 $PY bench/sk_label.py train --data $TRAIN --outdir "$OUT" --C "$C"
rec "{\"k\":\"sktrain\",\"m\":$J}"
say "scikit-learn LinearSVC: label $N sentences"
jrun $PY bench/util.py time --timeout 400 --out "$OUT/sk_linearsvc.json" -- \
    $PY bench/sk_label.py label --model "$OUT/sk_linearsvc.pkl" --input "$OUT/sentences.txt" \
    --out "$OUT/sk_linearsvc.labels"
rec "{\"k\":\"label\",\"sys\":\"sk_linearsvc\",\"n\":$N,\"inner\":$J}"
say "scikit-learn SVC(probability): label the first $SVC_N sentences"
jrun $PY bench/util.py time --timeout 400 --out "$OUT/sk_svc.json" -- \
    $PY bench/sk_label.py label --model "$OUT/sk_svc.pkl" --input "$OUT/sentences.txt" \
    --limit "$SVC_N" --out "$OUT/sk_svc.labels"
rec "{\"k\":\"label\",\"sys\":\"sk_svc\",\"n\":$SVC_N,\"inner\":$J}"
for s in sk_linearsvc sk_svc; do
    rec "{\"k\":\"skinner\",\"sys\":\"$s\",\"m\":$(tail -n 1 "$OUT/$s.json" 2>/dev/null | grep '^{' || echo '{}')}"
done
say "agreement of the labels with ours (first $SVC_N)"
jrun $PY bench/util.py agree --dir "$OUT" --n "$SVC_N"
rec "{\"k\":\"agree\",\"m\":$J}"

# ---- 3 and 5. stanced over ZeroMQ (stance model only) and the peer ----
# Both servers run at once (an idle one costs nothing) and each load is run
# against stanced and then against the peer, so both see the same machine.
say "stanced with the stance bundle (default workers) and the pyzmq + scikit-learn peer"
OURS_EP="" PEER_EP="" OURS_PID="" PEER_PID=""
if start_stanced bench-stance "  stance: \"$(pwd)/models/stance\""; then
    OURS_EP=$EP OURS_PID=$SPID
    hwm stanced_stance_idle
else
    rec "{\"k\":\"exit\",\"what\":\"stanced (stance)\",\"rc\":\"did not start\"}"
fi
if [ -f "$OUT/sk_linearsvc.pkl" ] && start_peer; then
    PEER_EP=$EP PEER_PID=$SPID
fi
ECHO_EP="" ECHO_PID=""
if start_peer --echo; then
    ECHO_EP=$EP ECHO_PID=$SPID
fi
# warm-up, not recorded
[ -n "$OURS_EP" ] && quiet timeout -k 5 60 "$BIN/stance" bench --endpoint "$OURS_EP" -c 2 -n 2000 \
    --no-split --file "$OUT/sentences.txt"
[ -n "$PEER_EP" ] && quiet timeout -k 5 60 "$BIN/stance" bench --endpoint "$PEER_EP" -c 2 -n 200 \
    --no-split --file "$OUT/sentences.txt"
both() { # CASE OURS_REQUESTS PEER_REQUESTS ARGS...
    _case=$1 _on=$2 _pn=$3
    shift 3
    [ -n "$OURS_EP" ] && { EP=$OURS_EP SPID=$OURS_PID; bench ours "$_case" -n "$_on" "$@"; }
    [ -n "$PEER_EP" ] && { EP=$PEER_EP SPID=$PEER_PID; bench peer "$_case" -n "$_pn" "$@"; }
    return 0
}
# Rounds: a single round of the 1-client case moves by 1.5x with the
# machine's other load; each round runs every case against both servers.
ROUND=1
while [ "$ROUND" -le "$ROUNDS" ]; do
    for c in 1 4 16; do
        both "c$c" "$REQ" "$PEER_REQ" -c "$c" --batch 1 --no-split --file "$OUT/sentences.txt"
    done
    [ -n "$ECHO_EP" ] && { EP=$ECHO_EP SPID=$ECHO_PID; bench echo c1 -n "$REQ" -c 1 --batch 1 --no-split \
        --file "$OUT/sentences.txt"; }
    # One and a half to two seconds a side: in shorter runs (0.7 s for
    # stanced at REQ / 10, a quarter second at REQ / 40) connection set-up
    # and cold caches weighed on the figure as much as throughput did.
    both batch100 $((REQ / 5)) $((PEER_REQ / 10)) -c 4 --batch 100 --no-split --file "$OUT/sentences.txt"
    ROUND=$((ROUND + 1))
done
if [ -n "$OURS_EP" ]; then
    # 5. document mode: the same 20-sentence articles as documents (split on,
    # the default) and as batches of their sentences (split off), alternately.
    EP=$OURS_EP SPID=$OURS_PID
    jrun timeout -k 5 60 $PY bench/util.py splitcount --endpoint "$EP" --docs "$OUT/articles.txt" --n 200
    rec "{\"k\":\"splitcount\",\"m\":$J}"
    # Three rounds: the machine's other load moves single rounds by 2x. The
    # process CPU time moves in 10 ms ticks, so a round needs tens of
    # thousands of sentences to read it per sentence to a few percent.
    for rep in 1 2 3; do
        bench ours "doc_split$rep" -c 4 -n "$DOC_REQ" --batch 1 --file "$OUT/articles.txt"
        bench ours "doc_batch$rep" -c 4 -n "$DOC_REQ" --batch 20 --no-split --file "$OUT/article_sentences.txt"
    done
    hwm stanced_stance_after_load
    stop_pid "$OURS_PID"
    rec "{\"k\":\"exit\",\"what\":\"stanced (stance)\",\"rc\":\"$STOP_RC\"}"
fi
if [ -n "$PEER_PID" ]; then
    SPID=$PEER_PID
    hwm peer_after_load
    stop_pid "$PEER_PID"
fi
[ -n "$ECHO_PID" ] && stop_pid "$ECHO_PID"

# ---- 4. peak memory with both bundled models ----
if [ -n "$SENT_DIR" ]; then
    MODELS="  stance: \"$(pwd)/models/stance\"
  sentiment: \"$(cd "$SENT_DIR" && pwd)\""
    say "stanced with both bundled models: VmHWM"
    if start_stanced bench-both "$MODELS"; then
        hwm stanced_both_idle
        bench ours both_c4 -c 4 -n 4000 --batch 1 --file "$OUT/sentences.txt"
        hwm stanced_both_after_load
        stop_pid "$SPID"
        rec "{\"k\":\"exit\",\"what\":\"stanced (both)\",\"rc\":\"$STOP_RC\"}"
    fi
else
    rec "{\"k\":\"mem\",\"what\":\"stanced_both_idle\",\"m\":{\"error\":\"models/sentiment missing\"}}"
fi

rec "{\"k\":\"meta_end\",\"load_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"seconds\":$(($(date +%s) - START))}"
say "broker overhead and scale-out (bench/broker.sh)"
{ printf '\n## 6. Broker overhead and scale-out (issue 7; 4 clients, single sentences)\n\n'
  OUT="$OUT" sh bench/broker.sh || echo "(broker bench failed: see $OUT/broker.log)"
  printf '\nOn this machine the broker, the daemons and the load generator share two cores, so\nextra daemons add little; on separate machines each daemon brings its own cores.\n'
} >"$OUT/broker.md"
say "done"
$PY bench/report.py "$R" "$OUT/results.md"
rc=$?
cat "$OUT/broker.md"
cat "$OUT/broker.md" >>"$OUT/results.md"
exit $rc
