#!/usr/bin/python3
"""The peer server of `make bench`: a straightforward pyzmq + scikit-learn
classifier speaking enough of stanced's protocol (docs/protocol.md) for
`stance bench` to measure it the same way as stanced. Benchmark tooling
only (Debian's /usr/bin/python3); nothing in the product depends on it.

    peer_server.py --endpoint tcp://127.0.0.1:PORT --model build/bench/sk_linearsvc.pkl
                   [--name stance] [--max-seconds 900]

One ROUTER socket, one thread. A request is {"id":..,"texts":[..]} or
{"id":..,"text":".."}; `split`, `models` and `explain` are accepted and
ignored: every text is scored as one unit. The reply is
{"id":..,"results":[{"label":{NAME:L},"scores":{NAME:{L:p,..}}},..]};
scores are predict_proba for a probability model and otherwise a softmax
of the decision values, so that they sum to 1 as stanced's do.
{"op":"ping"} is answered {"id":null,"ok":true,"version":1}. The server
exits on SIGTERM/SIGINT, or by itself after --max-seconds.

With --echo (no --model) it answers every request at once with
{"id":..,"results":[]}, reading nothing of the body but the id that
`stance bench` puts first: the round trip of ZeroMQ and Python with no work
behind it, the floor under any server's 1-client figure.
"""

import argparse
import json
import pickle
import signal
import sys
import time

import numpy as np
import zmq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--model")
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--name", default="stance")
    ap.add_argument("--max-seconds", type=float, default=900)
    a = ap.parse_args()
    if not a.endpoint.startswith("tcp://127.0.0.1:"):
        sys.exit("peer_server.py: loopback endpoints only")

    if not a.echo and not a.model:
        sys.exit("peer_server.py: --model or --echo")
    if not a.echo:
        with open(a.model, "rb") as f:
            pipe = pickle.load(f)
        clf = pipe.named_steps["clf"]
        labels = [str(c) for c in clf.classes_]
        proba = bool(getattr(clf, "probability", False))

    def score(texts):
        if proba:
            p = pipe.predict_proba(texts)
        else:
            d = pipe.decision_function(texts)
            d = np.exp(d - d.max(axis=1, keepdims=True))
            p = d / d.sum(axis=1, keepdims=True)
        out = []
        for row in p:
            best = int(row.argmax())
            out.append({"label": {a.name: labels[best]},
                        "scores": {a.name: {labels[i]: float(row[i]) for i in range(len(labels))}}})
        return out

    def handle(body):
        try:
            req = json.loads(body)
        except ValueError:
            return {"id": None, "error": {"code": "bad_json", "message": "invalid JSON"}}
        if not isinstance(req, dict):
            return {"id": None, "error": {"code": "bad_request", "message": "not an object"}}
        rid = req.get("id")
        if req.get("op") == "ping":
            return {"id": rid, "ok": True, "version": 1}
        if "op" in req:
            return {"id": rid, "error": {"code": "unknown_op", "message": "unknown op"}}
        if isinstance(req.get("texts"), list):
            texts = req["texts"]
        elif isinstance(req.get("text"), str):
            texts = [req["text"]]
        else:
            return {"id": rid, "error": {"code": "bad_request", "message": "text or texts"}}
        if not texts or not all(isinstance(t, str) and t for t in texts):
            return {"id": rid, "error": {"code": "empty_text", "message": "empty text"}}
        return {"id": rid, "results": score(texts)}

    def reply_to(body):
        if a.echo and body.startswith(b'{"id":'):
            end = body.find(b",", 6)
            if end > 6:
                return b'{"id":' + body[6:end] + b',"results":[]}'
        return json.dumps(handle(body), separators=(",", ":")).encode()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(a.endpoint)
    deadline = time.monotonic() + a.max_seconds
    while not stop and time.monotonic() < deadline:
        if not sock.poll(200):
            continue
        frames = sock.recv_multipart()
        # [identity, (empty delimiter,) body]
        if len(frames) == 3 and frames[1] == b"":
            env, body = frames[:2], frames[2]
        elif len(frames) == 2:
            env, body = frames[:1], frames[1]
        else:
            continue
        sock.send_multipart(env + [reply_to(body)])
    sock.close(0)
    ctx.term()


if __name__ == "__main__":
    main()
