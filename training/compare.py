#!/usr/bin/python3
"""Side-by-side comparison of stance-train with fastText and scikit-learn.

Called by training/compare.sh (`make compare`); run it with Debian's
/usr/bin/python3, which has scikit-learn and numpy. This is evaluation
tooling only: nothing the daemon or the trainer runs depends on Python.

For each dev set every system is trained on the same training files and
scored on the dev file: accuracy, and macro-F1 over the classes present in
the dev truth (as stance-train computes it: the stance dev data has no
neutral class, yet predicting neutral still costs recall). For each
benchmark (SUBJ, CR, MPQA) every system is scored by 10-fold stratified
cross-validation; fastText and scikit-learn share the same folds
(StratifiedKFold, shuffled, seed 1), stance-train draws its own stratified
folds from --seed 1. Every external command runs under a timeout.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

SEED = 1

# fastText, fixed settings, chosen once by 5-fold CV on training data only
# (stance and sentiment training files, CR, MPQA; never on a dev set; see
# training/EXPERIMENTS.md): 10, 25 and 50 epochs at lr 0.5 tie, 5 epochs at
# lr 0.1 underfits. A 200k-bucket hash table is as good as the default 2M one
# and saves writing a 400 MB model per fold. One thread and a seed make it
# reproducible.
FASTTEXT_ARGS = ["-wordNgrams", "2", "-epoch", "25", "-lr", "0.5", "-dim", "50",
                 "-minCount", "1", "-bucket", "200000", "-loss", "softmax",
                 "-thread", "1"]  # and "-seed", the run's seed
# fastText's figure moves with its seed (the order it reads the training
# rows in, and its initial weights) by more than the systems differ on the
# dev sets, so each dev set also gets fastText's spread over these seeds.
FASTTEXT_SPREAD_SEEDS = range(1, 11)

# scikit-learn: LinearSVC on TF-IDF word 1-2-grams, class weights balanced. On
# the dev sets C is chosen from SKLEARN_CS by 5-fold CV (macro-F1) on the
# training data only, and also reported at C=1, the C ours runs with (chosen
# with the dev sets in view, so the fairer peer figure is the one at the same
# C); on the benchmarks C=1 for every fold, as ours runs with one fixed C
# there (nested tuning would add about five minutes for a few tenths of a
# point).
SKLEARN_CS = [0.1, 0.3, 1.0, 3.0]

# Published NBSVM-bi accuracies (Wang & Manning 2012, table 2).
NBSVM_BI = {"subj": 93.2, "cr": 81.8, "mpqa": 86.3}

TIMEOUT_TRAIN = 1700  # one stance-train train / eval / cv run (char n-grams train slowly)
TIMEOUT_FAST = 300    # one fastText call


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_tsv(paths):
    """Rows 'label<TAB>sentence' (blank and '#' lines skipped, as ours does)."""
    labels, texts = [], []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip() or line.startswith("#"):
                    continue
                if line.startswith("{"):
                    obj = json.loads(line)
                    labels.append(obj["label"])
                    texts.append(obj["text"])
                    continue
                label, sep, text = line.partition("\t")
                if not sep:
                    raise SystemExit(f"{path}: line without a tab: {line[:60]!r}")
                labels.append(label)
                texts.append(text)
    return labels, texts


def figures(y_true, y_pred):
    """Accuracy and macro-F1 over the classes present in the truth."""
    present = sorted(set(y_true))
    return (accuracy_score(y_true, y_pred),
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def run(cmd, timeout, **kw):
    try:
        return subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, **kw)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {timeout}s: {' '.join(cmd[:3])} ...")
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(cmd[:2])} exited {e.returncode}: {' | '.join(tail)}")


# ---------------------------------------------------------------- ours

def ours_dev(args, name, train_files, dev_file, labels, opts, work, x_dev):
    """Trains a bundle and returns its label for each dev sentence."""
    out = os.path.join(work, "ours-" + name)
    cmd = [os.path.join(args.bin, "stance-train"), "train"]
    for f in train_files:
        cmd += ["--data", f]
    cmd += ["--labels", ",".join(labels), "--out", out, "--name", name,
            "--folds", "0", "--seed", str(SEED), "--threads", str(args.threads)] + opts
    run(cmd, TIMEOUT_TRAIN)
    r = run([os.path.join(args.bin, "stance-train"), "predict", "--model", out],
            TIMEOUT_TRAIN, input="".join(x + "\n" for x in x_dev))
    pred = [line.split("\t", 1)[0] for line in r.stdout.splitlines()]
    if len(pred) != len(x_dev):
        raise RuntimeError(f"stance-train predicted {len(pred)} lines for {len(x_dev)}")
    return pred


def ours_cv(args, path, opts):
    cmd = [os.path.join(args.bin, "stance-train"), "cv", "--data", path, "--folds", "10",
           "--json", "--seed", str(SEED), "--threads", str(args.threads)] + opts
    j = json.loads(run(cmd, TIMEOUT_TRAIN).stdout)
    return j["accuracy"], j["macro_f1"]


# ---------------------------------------------------------------- fastText

_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)


def ft_text(text):
    """Lower-cased, punctuation split off: fastText splits on spaces only."""
    return " ".join(_TOKEN.findall(text.lower()))


def ft_label(label):
    return "__label__" + label


def fasttext_fit_predict(work, tag, y_train, x_train, x_test, seed=SEED):
    train_path = os.path.join(work, f"ft-{tag}.train")
    test_path = os.path.join(work, f"ft-{tag}.test")
    model = os.path.join(work, f"ft-{tag}")
    # fastText reads its input in file order and does not shuffle; the
    # benchmark files are sorted by label, which without this leaves it
    # below the majority class (MPQA 39%).
    order = np.random.RandomState(seed).permutation(len(y_train))
    with open(train_path, "w", encoding="utf-8") as f:
        for i in order:
            f.write(f"{ft_label(y_train[i])} {ft_text(x_train[i])}\n")
    with open(test_path, "w", encoding="utf-8") as f:
        for x in x_test:
            f.write(ft_text(x) + "\n")
    run(["fasttext", "supervised", "-input", train_path, "-output", model] + FASTTEXT_ARGS
        + ["-seed", str(seed)], TIMEOUT_FAST)
    r = run(["fasttext", "predict", model + ".bin", test_path, "1"], TIMEOUT_FAST)
    pred = [line.strip()[len("__label__"):] for line in r.stdout.splitlines()]
    if len(pred) != len(x_test):
        raise RuntimeError(f"fastText predicted {len(pred)} lines for {len(x_test)}")
    for p in (model + ".bin", model + ".vec", train_path, test_path):
        if os.path.exists(p):
            os.remove(p)
    return pred


# ---------------------------------------------------------------- scikit-learn

def sklearn_pipeline(C=1.0):
    return Pipeline([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), lowercase=True)),
        ("svm", LinearSVC(C=C, class_weight="balanced", random_state=SEED, max_iter=10000)),
    ])


def sklearn_fit_predict(y_train, x_train, x_test, inner_folds):
    """Fits with C chosen by inner stratified CV (macro-F1) on the training
    rows; inner_folds 0 fits C=1 directly."""
    if not inner_folds:
        return list(sklearn_pipeline(1.0).fit(x_train, y_train).predict(x_test)), 1.0
    search = GridSearchCV(sklearn_pipeline(), {"svm__C": SKLEARN_CS}, scoring="f1_macro",
                          cv=StratifiedKFold(inner_folds, shuffle=True, random_state=SEED),
                          n_jobs=1)
    search.fit(x_train, y_train)
    return list(search.predict(x_test)), search.best_params_["svm__C"]


# ---------------------------------------------------------------- driver

BOOTSTRAP = 2000


def bootstrap_cell(y_true, ours, peer):
    """Paired bootstrap of the macro-F1 difference ours - peer: the dev
    sentences are resampled with replacement, both systems scored on each
    resample. With a dev set of a few hundred sentences one sentence moves
    macro-F1 by about 0.005, so the interval says whether a lead is more
    than noise."""
    if ours is None or peer is None:
        return "failed"
    names = sorted(set(y_true) | set(ours) | set(peer))
    y, a, b = (np.array([names.index(v) for v in vs]) for vs in (y_true, ours, peer))
    k = len(names)

    def macro_f1(t, p):
        """figures()' macro-F1, vectorised: over the classes present in t."""
        conf = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
        tp, truth, said = np.diag(conf), conf.sum(1), conf.sum(0)
        present = truth > 0
        f1 = np.divide(2 * tp, truth + said, out=np.zeros(k), where=truth + said > 0)
        return f1[present].mean()

    rng = np.random.RandomState(SEED)
    diffs = np.empty(BOOTSTRAP)
    for i in range(BOOTSTRAP):
        idx = rng.randint(0, len(y), len(y))
        diffs[i] = macro_f1(y[idx], a[idx]) - macro_f1(y[idx], b[idx])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    point = figures(y_true, ours)[1] - figures(y_true, peer)[1]
    return f"{point:+.4f} [{lo:+.3f}, {hi:+.3f}]; {100 * np.mean(diffs > 0):.0f}%"


def timed(fn, *a):
    t0 = time.monotonic()
    try:
        res = fn(*a)
        err = None
    except Exception as e:  # one system failing must not lose the others' figures
        res, err = None, f"{type(e).__name__}: {e}" if not isinstance(e, RuntimeError) else str(e)
    return res, err, time.monotonic() - t0


def cell(res, pct=False):
    """Benchmarks to 0.1% / 0.001; dev sets, whose systems can differ by a
    fraction of one sentence, to 0.0001."""
    if res is None:
        return "failed"
    acc, f1 = res
    return f"{100 * acc:.1f} / {f1:.3f}" if pct else f"{acc:.4f} / {f1:.4f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory holding stance-train")
    ap.add_argument("--corpus", default="training/corpus")
    ap.add_argument("--bench", help="directory holding subj.tsv, cr.tsv, mpqa.tsv (omit to skip)")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--out", required=True, help="markdown table to write")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stance-opts", default="", help="stance-train options for the stance model")
    ap.add_argument("--sentiment-opts", default="", help="stance-train options for the sentiment model")
    ap.add_argument("--bench-opts", default="", help="stance-train options for the benchmarks")
    ap.add_argument("--no-fasttext", action="store_true", help="skip fastText (not installed)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    t_start = time.monotonic()
    failures = []

    c = args.corpus
    stance_train = sorted(os.path.join(c, f) for f in os.listdir(c)
                          if f.startswith("stance_written_") and f.endswith(".tsv"))
    stance_train.append(os.path.join(c, "stance_petrarch2.tsv"))
    # The sentiment model trains on NewsMTSC plus the project's written
    # sentiment sentences, as training/make-models.sh does.
    sentiment_train = [os.path.join(c, "sentiment_newsmtsc_train.tsv")] + sorted(
        os.path.join(c, f) for f in os.listdir(c)
        if f.startswith("sentiment_written_") and f.endswith(".tsv"))
    devs = [
        ("stance", stance_train, os.path.join(c, "stance_dev_plover_part_a.tsv"),
         ["conciliatory", "distrustful", "escalatory", "neutral"], args.stance_opts.split()),
        ("sentiment", sentiment_train,
         os.path.join(c, "sentiment_dev_newsmtsc_devtest_mt.tsv"),
         ["negative", "neutral", "positive"], args.sentiment_opts.split()),
    ]

    # Our two dev-set trainings (single-threaded: libsvm's Platt fit is
    # serial) run in the background on one core while fastText and
    # scikit-learn (one thread each) use the other; our benchmark
    # cross-validations, which use both cores, run after both are done.
    def record(row, key, label, res, err, dt, pct=False, note=""):
        row["res"][key], row["time"][key] = res, dt
        if err:
            failures.append(f"{label} on {row['name']}: {err}")
        log(f"   {row['name']:<9} {label:<13} {cell(res, pct)}  ({note}{dt:.0f}s)")

    dev_rows = []
    for name, train_files, dev_file, labels, opts in devs:
        y_tr, x_tr = read_tsv(train_files)
        y_dv, x_dv = read_tsv([dev_file])
        log(f"== {name}: {len(y_tr)} training sentences, {len(y_dv)} dev sentences")
        dev_rows.append({"name": name, "ntrain": len(y_tr), "ndev": len(y_dv), "res": {}, "time": {},
                         "pred": {}, "data": (y_tr, x_tr, y_dv, x_dv),
                         "args": (train_files, dev_file, labels, opts)})

    def scored(row, key, predict):
        """predict() gives dev labels; keeps them for the bootstrap and
        returns the figures."""
        def job():
            row["pred"][key] = predict()
            return figures(row["data"][2], row["pred"][key])
        return job

    pool = ThreadPoolExecutor(max_workers=1)
    ours_jobs = [(row, pool.submit(timed, scored(row, "ours", lambda row=row: ours_dev(
        args, row["name"], *row["args"], args.work, row["data"][3])))) for row in dev_rows]

    for row in dev_rows:
        y_tr, x_tr, y_dv, x_dv = row["data"]
        if not args.no_fasttext:
            record(row, "fasttext", "fastText", *timed(scored(
                row, "fasttext", lambda: fasttext_fit_predict(args.work, row["name"], y_tr, x_tr, x_dv))))

            def spread():
                return [figures(y_dv, fasttext_fit_predict(args.work, row["name"], y_tr, x_tr, x_dv,
                                                           seed))[1] for seed in FASTTEXT_SPREAD_SEEDS]
            row["ft_spread"], err, dt = timed(spread)
            if err:
                failures.append(f"fastText seeds on {row['name']}: {err}")
            log(f"   {row['name']:<9} fastText seeds {len(FASTTEXT_SPREAD_SEEDS)}, {dt:.0f}s")

        def sk():
            pred, row["sk_C"] = sklearn_fit_predict(y_tr, x_tr, x_dv, 5)
            return pred
        res, err, dt = timed(scored(row, "sklearn", sk))
        record(row, "sklearn", "scikit-learn", res, err, dt, note=f"C={row.get('sk_C')}, ")
        record(row, "sklearn_c1", "scikit-learn", *timed(scored(
            row, "sklearn_c1", lambda: sklearn_fit_predict(y_tr, x_tr, x_dv, 0)[0])), note="C=1, ")

    bench_rows = []
    if args.bench:
        for b in ("subj", "cr", "mpqa"):
            path = os.path.join(args.bench, b + ".tsv")
            if not os.path.exists(path):
                log(f"== {b}: {path} absent, skipped")
                continue
            y, x = read_tsv([path])
            log(f"== {b}: {len(y)} sentences, 10-fold CV")
            row = {"name": b, "n": len(y), "res": {}, "time": {}, "path": path}
            folds = list(StratifiedKFold(10, shuffle=True, random_state=SEED).split(x, y))
            ya = np.array(y, dtype=object)
            xa = np.array(x, dtype=object)

            if not args.no_fasttext:
                def ft_cv():
                    pred = np.empty(len(y), dtype=object)
                    for k, (tr, te) in enumerate(folds):
                        pred[te] = fasttext_fit_predict(args.work, f"{b}{k}", list(ya[tr]),
                                                        list(xa[tr]), list(xa[te]))
                    return figures(y, list(pred))
                record(row, "fasttext", "fastText", *timed(ft_cv), pct=True)

            def sk_cv():
                pred = np.empty(len(y), dtype=object)
                for tr, te in folds:
                    pred[te] = sklearn_fit_predict(list(ya[tr]), list(xa[tr]), list(xa[te]), 0)[0]
                return figures(y, list(pred))
            record(row, "sklearn", "scikit-learn", *timed(sk_cv), pct=True, note="C=1, ")
            bench_rows.append(row)

    for row, job in ours_jobs:
        record(row, "ours", "stance-train", *job.result())
    pool.shutdown()

    for row in bench_rows:
        record(row, "ours", "stance-train", *timed(ours_cv, args, row["path"], args.bench_opts.split()),
               pct=True)

    systems = [("ours", "stance-train")] + ([] if args.no_fasttext else [("fasttext", "fastText")]) \
        + [("sklearn", "scikit-learn")]
    dev_systems = systems + [("sklearn_c1", "scikit-learn at C=1")]
    lines = ["## Dev sets (train on the training files, score the dev file): accuracy / macro-F1", "",
             "| dev set | train / dev rows | " + " | ".join(s[1] for s in dev_systems) + " |",
             "|---|---|" + "---|" * len(dev_systems)]
    for r in dev_rows:
        cells = [cell(r["res"].get(k)) for k, _ in dev_systems]
        best = max((r["res"][k][1], k) for k, _ in dev_systems if r["res"].get(k))[1] \
            if any(r["res"].get(k) for k, _ in dev_systems) else None
        cells = [f"**{v}**" if k == best else v for v, (k, _) in zip(cells, dev_systems)]
        lines.append(f"| {r['name']} | {r['ntrain']} / {r['ndev']} | " + " | ".join(cells) + " |")
    lines.append("")
    spread = [(r["name"], r["ft_spread"]) for r in dev_rows if r.get("ft_spread")]
    if spread:
        lines += ["fastText's dev macro-F1 over seeds " + f"{FASTTEXT_SPREAD_SEEDS[0]}–{FASTTEXT_SPREAD_SEEDS[-1]}"
                  + " (the table's run is seed 1): " + "; ".join(
                      f"{name} mean {np.mean(v):.4f}, range {min(v):.4f}–{max(v):.4f}" for name, v in spread)
                  + ".", ""]
    peers = dev_systems[1:]
    lines += [f"## Dev sets: stance-train's macro-F1 minus each peer's, paired bootstrap ({BOOTSTRAP:,} "
              f"resamples of the dev sentences, seed {SEED})", "",
              "Each cell: the measured difference [95% interval]; the share of resamples in which "
              "stance-train is ahead.", "",
              "| dev set | " + " | ".join("vs " + s[1] for s in peers) + " |",
              "|---|" + "---|" * len(peers)]
    for r in dev_rows:
        lines.append(f"| {r['name']} | " + " | ".join(
            bootstrap_cell(r["data"][2], r["pred"].get("ours"), r["pred"].get(k)) for k, _ in peers) + " |")
    lines.append("")
    if bench_rows:
        lines += ["## Benchmarks, 10-fold CV: accuracy % / macro-F1", "",
                  "| benchmark | rows | " + " | ".join(s[1] for s in systems) + " | NBSVM-bi (W&M 2012) |",
                  "|---|---|" + "---|" * (len(systems) + 1)]
        for r in bench_rows:
            cells = [cell(r["res"].get(k), True) for k, _ in systems]
            best = max((r["res"][k][0], k) for k, _ in systems if r["res"].get(k))[1] \
                if any(r["res"].get(k) for k, _ in systems) else None
            cells = [f"**{v}**" if k == best else v for v, (k, _) in zip(cells, systems)]
            lines.append(f"| {r['name']} | {r['n']} | " + " | ".join(cells)
                         + f" | {NBSVM_BI[r['name']]:.1f} |")
        lines.append("")
    else:
        lines += ["Benchmarks skipped (no benchmark directory).", ""]
    lines.append("Wall time per system (s): " + "; ".join(
        f"{r['name']}: " + ", ".join(f"{lab} {r['time'][k]:.0f}" for k, lab in dev_systems if k in r["time"])
        for r in dev_rows + bench_rows))
    lines.append("")
    lines.append("Settings: stance-train stance `" + (args.stance_opts or "defaults") + "`, sentiment `"
                 + (args.sentiment_opts or "defaults") + "`, benchmarks `" + (args.bench_opts or "defaults")
                 + "`. fastText `" + " ".join(FASTTEXT_ARGS) + f" -seed {SEED}` on lower-cased text with punctuation split off."
                 " scikit-learn LinearSVC(class_weight=balanced) on TfidfVectorizer(ngram_range=(1,2)),"
                 " C from {" + ", ".join(f"{C:g}" for C in SKLEARN_CS) + "} by 5-fold CV on the training rows"
                 " for the dev sets (chosen: " + "; ".join(f"{r['name']} {r.get('sk_C')}" for r in dev_rows)
                 + ") and at C=1, C=1 on the benchmarks.")
    lines.append("Macro-F1 is taken over the classes present in the dev truth. "
                 f"Total run time {time.monotonic() - t_start:.0f}s.")
    table = "\n".join(lines) + "\n"
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(table)
    if failures:
        for msg in failures:
            log("compare: " + msg)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
