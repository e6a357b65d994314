#!/usr/bin/python3
"""Small helpers for bench/run.sh (`make bench`). Run with Debian's
/usr/bin/python3; nothing in the product depends on this file.

  util.py sentences --out FILE [--n N] [--seed S]
      The fixed sentence file: every sentence of training/corpus/*.tsv
      (second column), in rounds, each round shuffled by a seeded RNG, until
      N lines (default 100000). Same corpus + same seed = same file.
  util.py articles --out-docs FILE --out-sents FILE [--per P] [--count C]
      Article-like input for the document-mode figure: C articles of P
      consecutive sentences of the written stance corpus, one article per
      line of --out-docs (sentences joined by a space), and the same
      sentences one per line, article after article, in --out-sents.
  util.py head --in FILE --out FILE --n N
      The first N lines of FILE.
  util.py port
      A loopback TCP port that was free a moment ago.
  util.py time --out FILE --timeout S -- CMD...
      Runs CMD (stdout to --out, or /dev/null for -), bounded by S seconds,
      and prints one JSON object: wall seconds, user+sys CPU seconds, peak
      RSS in KiB and the exit code.
  util.py splitcount --endpoint E --docs FILE [--n N]
      Asks a daemon to split the first N documents of FILE (split on) and
      prints the number of sentences it found, as JSON.
  util.py hwm --pid PID
      VmHWM and VmRSS of PID in KiB, as JSON.
  util.py cpu --pid PID
      User+system CPU seconds PID has used so far, all threads, as JSON.
  util.py agree --dir DIR --n N
      Share of the first N sentences on which fastText's and scikit-learn's
      labels (DIR/*.labels) agree with ours, as JSON.
"""

import argparse
import glob
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "training", "corpus")


def corpus_sentences(pattern):
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, pattern))):
        with open(path, encoding="utf-8", newline="") as f:
            for line in f:
                cols = line.rstrip("\r\n").split("\t")
                if len(cols) < 2:
                    continue
                s = " ".join(cols[1].split())
                if s:
                    out.append(s)
    return out


def cmd_sentences(a):
    base = corpus_sentences("*.tsv")
    if not base:
        sys.exit("util.py: no sentences in %s/*.tsv" % CORPUS)
    rng = random.Random(a.seed)
    out = []
    while len(out) < a.n:
        round_ = list(base)
        rng.shuffle(round_)
        out.extend(round_[: a.n - len(out)])
    with open(a.out, "w", encoding="utf-8") as f:
        for s in out:
            f.write(s + "\n")
    print(json.dumps({"sentences": len(out), "corpus_rows": len(base)}))


def cmd_articles(a):
    base = corpus_sentences("stance_written_*.tsv")
    need = a.per * a.count
    if len(base) < a.per:
        sys.exit("util.py: too few stance sentences for one article")
    sents = [base[i % len(base)] for i in range(need)]
    with open(a.out_docs, "w", encoding="utf-8") as d, open(a.out_sents, "w", encoding="utf-8") as s:
        for k in range(a.count):
            art = sents[k * a.per:(k + 1) * a.per]
            d.write(" ".join(art) + "\n")
            for x in art:
                s.write(x + "\n")
    print(json.dumps({"articles": a.count, "per_article": a.per,
                      "bytes_per_article": os.path.getsize(a.out_docs) / a.count}))


def cmd_head(a):
    n = 0
    with open(a.inp, encoding="utf-8") as f, open(a.out, "w", encoding="utf-8") as g:
        for line in f:
            if n == a.n:
                break
            g.write(line)
            n += 1
    print(json.dumps({"lines": n}))


def cmd_port(_a):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_time(a):
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    out = open(os.devnull if a.out == "-" else a.out, "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)

    def stop(signum, _frame):
        p.kill()
        p.wait()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        _, err = p.communicate(timeout=a.timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        rc = "timeout"
    wall = time.monotonic() - t0
    out.close()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = {"wall_s": round(wall, 4), "cpu_s": round(ru.ru_utime + ru.ru_stime, 4),
           "maxrss_kib": ru.ru_maxrss, "rc": rc}
    if rc != 0:
        res["stderr"] = err.decode("utf-8", "replace")[-400:]
    print(json.dumps(res))


def cmd_splitcount(a):
    import zmq
    with open(a.docs, encoding="utf-8") as f:
        docs = [line.rstrip("\n") for line in f][: a.n]
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(a.endpoint)
    s.send_multipart([b"", json.dumps({"id": 1, "texts": docs, "split": True}).encode()])
    if not s.poll(20000):
        sys.exit("util.py: no reply from %s" % a.endpoint)
    frames = s.recv_multipart()
    reply = json.loads(frames[-1])
    s.close(0)
    ctx.term()
    if "results" not in reply:
        sys.exit("util.py: error reply: %s" % json.dumps(reply)[:300])
    n = sum(len(r.get("sentences", [])) for r in reply["results"])
    print(json.dumps({"documents": len(docs), "sentences_found": n,
                      "per_document": n / max(1, len(docs))}))


def cmd_hwm(a):
    vals = {}
    with open("/proc/%d/status" % a.pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                vals[k] = int(v.split()[0])
    print(json.dumps({"vmhwm_kib": vals.get("VmHWM"), "vmrss_kib": vals.get("VmRSS")}))


def cmd_cpu(a):
    with open("/proc/%d/stat" % a.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    print(json.dumps({"cpu_s": (int(fields[11]) + int(fields[12])) / tick}))


def cmd_agree(a):
    def labels(name):
        try:
            with open(os.path.join(a.dir, name + ".labels"), encoding="utf-8") as f:
                return [line.split("\t")[0].split(" ")[0].replace("__label__", "")
                        for _, line in zip(range(a.n), f)]
        except OSError:
            return []
    ours = labels("ours")
    res = {}
    for peer in ("fasttext", "sk_linearsvc", "sk_svc"):
        other = labels(peer)
        m = min(len(other), len(ours))
        res[peer] = round(sum(x == y for x, y in zip(ours, other)) / m, 4) if m else None
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sentences")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_sentences)
    p = sub.add_parser("articles")
    p.add_argument("--out-docs", required=True)
    p.add_argument("--out-sents", required=True)
    p.add_argument("--per", type=int, default=20)
    p.add_argument("--count", type=int, default=200)
    p.set_defaults(fn=cmd_articles)
    p = sub.add_parser("head")
    p.add_argument("--in", dest="inp", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, required=True)
    p.set_defaults(fn=cmd_head)
    p = sub.add_parser("port")
    p.set_defaults(fn=cmd_port)
    p = sub.add_parser("time")
    p.add_argument("--out", default="-")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_time)
    p = sub.add_parser("splitcount")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--n", type=int, default=50)
    p.set_defaults(fn=cmd_splitcount)
    p = sub.add_parser("hwm")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(fn=cmd_hwm)
    p = sub.add_parser("cpu")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(fn=cmd_cpu)
    p = sub.add_parser("agree")
    p.add_argument("--dir", required=True)
    p.add_argument("--n", type=int, default=10000)
    p.set_defaults(fn=cmd_agree)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
