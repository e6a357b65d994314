#!/usr/bin/python3
"""The scikit-learn peer of `make bench` (run with Debian's /usr/bin/python3;
nothing in the product depends on it).

  sk_label.py train --data FILE... --outdir DIR [--C X]
      Trains, once and untimed, two pipelines on the labelled TSV files
      ('label<TAB>sentence'), both on TfidfVectorizer word 1-2 grams with
      sublinear (log) tf, idf and l2 normalisation, balanced class weights,
      the features our bundles use without negation marking:
        DIR/sk_svc.pkl        SVC(kernel="linear", probability=True)
        DIR/sk_linearsvc.pkl  LinearSVC
      and prints what it trained as JSON. When DIR already holds pickles
      trained from the same files' contents, C, scikit-learn version and
      this script, they are kept (the JSON then says "cached": true).
  sk_label.py label --model PKL --input FILE --out FILE [--limit N]
      The timed part, meant to run as its own process: loads the pickle,
      reads the first N lines of FILE (all by default), labels them all at
      once and writes one line per sentence, 'label<TAB>p1<TAB>p2...' as
      `stance-train predict` does: predict_proba for SVC, and for
      LinearSVC the decision_function values (it has no probabilities).
      Prints JSON with the seconds spent loading and labelling.
"""

import argparse
import hashlib
import json
import os
import pickle
import sys
import time

T_START = time.monotonic()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.svm import SVC, LinearSVC  # noqa: E402

SEED = 1


def read_tsv(paths):
    texts, labels = [], []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            for line in f:
                cols = line.rstrip("\r\n").split("\t")
                if len(cols) >= 2 and cols[0] and cols[1].strip():
                    labels.append(cols[0])
                    texts.append(cols[1])
    return texts, labels


def features():
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                           token_pattern=r"(?u)\b\w+\b", dtype=np.float64)


def train_key(a):
    import sklearn
    h = hashlib.sha256()
    for path in a.data:
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    h.update(("%r %s" % (a.C, sklearn.__version__)).encode())
    return h.hexdigest()


def cmd_train(a):
    key = train_key(a)
    key_path = os.path.join(a.outdir, "sk_train.json")
    try:
        with open(key_path, encoding="utf-8") as f:
            prev = json.load(f)
        if prev.get("key") == key and all(
                os.path.exists(os.path.join(a.outdir, "sk_%s.pkl" % n)) for n in ("svc", "linearsvc")):
            prev["cached"] = True
            print(json.dumps(prev))
            return
    except (OSError, ValueError):
        pass
    texts, labels = read_tsv(a.data)
    if not texts:
        sys.exit("sk_label.py: no training rows")
    out = {"rows": len(texts), "C": a.C}
    for name, clf in (("svc", SVC(kernel="linear", C=a.C, probability=True,
                                  class_weight="balanced", random_state=SEED)),
                      ("linearsvc", LinearSVC(C=a.C, class_weight="balanced",
                                              random_state=SEED, max_iter=10000))):
        pipe = Pipeline([("tfidf", features()), ("clf", clf)])
        t0 = time.monotonic()
        pipe.fit(texts, labels)
        out[name + "_train_s"] = round(time.monotonic() - t0, 2)
        if name == "svc":
            out["svc_support_vectors"] = int(pipe.named_steps["clf"].support_vectors_.shape[0])
        out["vocabulary"] = len(pipe.named_steps["tfidf"].vocabulary_)
        with open("%s/sk_%s.pkl" % (a.outdir, name), "wb") as f:
            pickle.dump(pipe, f, protocol=pickle.HIGHEST_PROTOCOL)
    out["key"] = key
    with open(key_path, "w", encoding="utf-8") as f:
        json.dump(out, f)
    out["cached"] = False
    print(json.dumps(out))


def cmd_label(a):
    t0 = time.monotonic()
    with open(a.model, "rb") as f:
        pipe = pickle.load(f)
    lines = []
    with open(a.input, encoding="utf-8") as f:
        for line in f:
            if a.limit and len(lines) == a.limit:
                break
            lines.append(line.rstrip("\n"))
    t1 = time.monotonic()
    clf = pipe.named_steps["clf"]
    if hasattr(clf, "probability") and clf.probability:
        scores = pipe.predict_proba(lines)
    else:
        scores = pipe.decision_function(lines)
    classes = clf.classes_
    best = scores.argmax(axis=1)
    with open(a.out, "w", encoding="utf-8") as g:
        for i in range(len(lines)):
            g.write(classes[best[i]] + "\t" + "\t".join("%.6f" % v for v in scores[i]) + "\n")
    t2 = time.monotonic()
    print(json.dumps({"sentences": len(lines), "import_s": round(t0 - T_START, 3),
                      "load_s": round(t1 - t0, 3), "label_s": round(t2 - t1, 3),
                      "in_process_per_s": round(len(lines) / (t2 - t1), 1)}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train")
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--C", type=float, default=1.0)
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("label")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=0)
    p.set_defaults(fn=cmd_label)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
