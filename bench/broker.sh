#!/bin/sh
# Broker overhead and scale-out (issue 7), part of `make bench`: the same
# single-sentence load against one daemon directly, then through a broker
# with one, two and three daemons (one worker each, so that the daemons,
# not the worker threads, are what scales). Loopback only; every process
# started here is stopped on exit. Prints a markdown table on stdout.
set -eu
: "${BIN:?BIN must name the directory holding stanced and stance}"
PY=/usr/bin/python3
OUT=${OUT:-build/bench}
REQ=${BENCH_BROKER_REQ:-10000}
MODEL=$(pwd)/models/stance
mkdir -p "$OUT"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

port() { $PY bench/util.py port; }

# ping ENDPOINT: waits up to 10 s for an answer.
ping() {
    i=0
    while [ $i -lt 50 ]; do
        "$BIN/stance" ping --endpoint "$1" --timeout 200 --retries 0 >/dev/null 2>&1 && return 0
        sleep 0.2; i=$((i + 1))
    done
    echo "broker bench: no answer from $1" >&2
    return 1
}

# figures ENDPOINT: one `stance bench` run; prints "req/s p50 p99 errors".
figures() {
    "$BIN/stance" bench --endpoint "$1" --clients 4 --requests "$REQ" --no-split --json 2>/dev/null |
        $PY -c 'import json,sys; j=json.load(sys.stdin); l=j.get("latency_ms",{}); print("%.0f %.3f %.3f %s" % (j.get("requests_per_s",0), l.get("p50",0), l.get("p99",0), j.get("errors",0)))'
}

daemon_conf() { # NAME EXTRA_YAML
    cat >"$OUT/broker-$1.yaml" <<EOF
workers: 1
log_level: warn
models:
  stance: $MODEL
$2
EOF
}

direct=tcp://127.0.0.1:$(port)
daemon_conf direct "endpoints: [\"$direct\"]"
"$BIN/stanced" --config "$OUT/broker-direct.yaml" 2>>"$OUT/broker.log" & PIDS="$PIDS $!"
ping "$direct"
set -- $(figures "$direct")
echo "| setup | requests/s | p50 ms | p99 ms | errors | vs direct |"
echo "|---|---|---|---|---|---|"
echo "| direct, 1 daemon (1 worker) | $1 | $2 | $3 | $4 | 1.00 |"
base=$1
kill $PIDS; wait 2>/dev/null || true; PIDS=""

front=tcp://127.0.0.1:$(port)
back=tcp://127.0.0.1:$(port)
cat >"$OUT/broker-broker.yaml" <<EOF
log_level: warn
broker:
  frontend: ["$front"]
  backend: $back
  heartbeat_ms: 500
  liveness: 3
EOF
"$BIN/stanced" --broker --config "$OUT/broker-broker.yaml" 2>>"$OUT/broker.log" & PIDS="$PIDS $!"
for n in 1 2 3; do
    daemon_conf "w$n" "endpoints: []
upstream:
  endpoint: $back
  name: w$n"
    "$BIN/stanced" --config "$OUT/broker-w$n.yaml" 2>>"$OUT/broker.log" & PIDS="$PIDS $!"
    sleep 1.5   # a heartbeat or two: the broker has seen the daemon join
    ping "$front"
    set -- $(figures "$front")
    echo "| broker + $n daemon(s), 1 worker each | $1 | $2 | $3 | $4 | $($PY -c "print('%.2f' % ($1 / $base))") |"
done
