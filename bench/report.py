#!/usr/bin/python3
"""Turns build/bench/results.jsonl (written by bench/run.sh) into the
summary table: printed, and written as Markdown to the second argument.

    report.py build/bench/results.jsonl build/bench/results.md
"""

import json
import sys


def load(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    recs.append({"k": "unparsed", "line": line[:200]})
    return recs


def num(x, fmt="%.0f"):
    return fmt % x if isinstance(x, (int, float)) else "n/a"


def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return a / b
    return None


def rfmt(r):
    if r is None:
        return "n/a"
    return ("%.2f×" if r < 10 else "%.1f×") % r


def verdict(r, target):
    if r is None:
        return "n/a"
    return "met" if r >= target else "NOT met"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def main():
    recs = load(sys.argv[1])
    md_path = sys.argv[2] if len(sys.argv) > 2 else None
    by = {}
    for r in recs:
        by.setdefault(r["k"], []).append(r)
    meta = (by.get("meta") or [{}])[0]
    end = (by.get("meta_end") or [{}])[0]
    corpus = (by.get("corpus") or [{}])[0]
    L = []
    L.append("# stanced `make bench` results")
    L.append("")
    L.append("%s, %s, %s CPUs, commit %s; load average %s at the start, %s at the end; %s s in all."
             % (meta.get("date"), meta.get("host"), meta.get("cpus"), meta.get("commit"),
                meta.get("load_start"), end.get("load_end"), end.get("seconds")))
    cm = corpus.get("m", {})
    L.append("Sentence file: %s sentences (rounds of the %s rows of training/corpus/*.tsv, shuffled with seed 1), sha256 %s…"
             % (cm.get("sentences"), cm.get("corpus_rows"), corpus.get("sha256")))
    L.append("")

    # 1
    L.append("## 1. In-process scoring, one core (sentences/s)")
    L.append("")
    rows = []
    for r in by.get("speed", []):
        m = r.get("m", {})
        if "error" in m:
            rows.append([r["model"], "n/a", "n/a", "n/a", "≥ 20×", "not measured: " + str(m["error"])[:80]])
            continue
        rt = ratio(m.get("fast_per_s"), m.get("libsvm_per_s"))
        rows.append([r["model"], num(m.get("fast_per_s")), num(m.get("libsvm_per_s")),
                     rfmt(rt), "≥ 20×" if r["model"] == "stance" else "(≥ 20×)",
                     verdict(rt, 20)])
    L += table(["model", "fast scorer", "libsvm (score_text_libsvm)", "ratio", "target", ""], rows)
    sd = (by.get("sentiment") or [{}])[0].get("dir")
    if sd and sd not in ("models/sentiment", "missing"):
        L.append("")
        L.append("Sentiment bundle: %s (BENCH_SENTIMENT), not the bundled models/sentiment." % sd)
    if by.get("speed"):
        n = next((r["m"].get("sentences") for r in by["speed"] if "sentences" in r.get("m", {})), None)
        L.append("")
        L.append("Both paths score the same %s sentences of the sentence file in one process "
                 "(`stance-train speed`)." % n)
    L.append("")

    # 2
    L.append("## 2. Whole-process labelling of the sentence file")
    L.append("")
    # Best (shortest) of the alternating rounds for each system.
    lab = {}
    for r in by.get("label", []):
        t = r.get("t") or r.get("inner") or {}
        prev = lab.get(r["sys"])
        pt = (prev or {}).get("t") or (prev or {}).get("inner") or {}
        ok = t.get("rc") == 0 and "wall_s" in t
        pok = pt.get("rc") == 0 and "wall_s" in pt
        if prev is None or (ok and (not pok or t["wall_s"] < pt["wall_s"])):
            lab[r["sys"]] = r
    rounds = {}
    for r in by.get("label", []):
        t = r.get("t") or {}
        if "wall_s" in t and "rep" in r:
            rounds.setdefault(r["sys"], []).append(t["wall_s"])
    inner = {r["sys"]: r.get("m", {}) for r in by.get("skinner", [])}

    def rate(sysname):
        r = lab.get(sysname)
        if not r:
            return None, None, None
        t = r.get("t") or r.get("inner") or {}
        if t.get("rc") != 0 or "wall_s" not in t:
            return None, None, r["n"]
        return t["wall_s"], r["n"] / t["wall_s"], r["n"]

    ours_w, ours_r, _ = rate("ours")
    names = {"ours": "stance-train predict (fast scorer)",
             "fasttext": "fasttext predict-prob (wordNgrams 2)",
             "sk_linearsvc": "scikit-learn LinearSVC, decision_function",
             "sk_svc": "scikit-learn SVC(linear, probability), predict_proba"}
    targets = {"fasttext": (1, "≥ 1× (as fast)"), "sk_linearsvc": (10, "≥ 10×"), "sk_svc": (10, "≥ 10×")}
    rows = []
    for s in ("ours", "fasttext", "sk_linearsvc", "sk_svc"):
        w, rt, n = rate(s)
        if s == "ours":
            rows.append([names[s], num(n), num(w, "%.2f"), num(rt), "", "", ""])
            continue
        rr = ratio(ours_r, rt)
        tv, tl = targets[s]
        rows.append([names[s], num(n), num(w, "%.2f"), num(rt), rfmt(rr), tl, verdict(rr, tv)])
    L += table(["system", "sentences", "wall s", "sentences/s", "ours/peer", "target", ""], rows)
    L.append("")
    notes = []
    if rounds:
        notes.append("stance-train and fastText ran alternately, 3 rounds each; the table shows "
                     "the best round. All rounds (wall s): " + "; ".join(
                         "%s %s" % (k, ", ".join("%.2f" % w for w in v)) for k, v in rounds.items()) + ".")
    ft = (by.get("ftargs") or [{}])[0].get("args")
    if ft:
        notes.append("fastText model: `fasttext supervised %s` on the same training files; "
                     "labelled with `fasttext predict-prob MODEL FILE 4` (all four probabilities)." % ft)
    if "sk_svc" in lab:
        notes.append("The SVC peer labels only the first %s sentences (its per-sentence cost is "
                     "flat, so its rate is per sentence of that slice); every other system labels "
                     "all of them. Wall time includes start-up, loading the model and writing "
                     "one line per sentence." % lab["sk_svc"]["n"])
    for s in ("sk_linearsvc", "sk_svc"):
        m = inner.get(s) or {}
        if m:
            notes.append("%s inside its process: import %.2f s, load %.2f s, label %.2f s "
                         "(%s sentences/s excluding start-up)." % (
                             s, m.get("import_s", 0), m.get("load_s", 0), m.get("label_s", 0),
                             num(m.get("in_process_per_s"))))
    sk = (by.get("sktrain") or [{}])[0].get("m", {})
    tr = (by.get("train") or [{}])[0]
    if sk:
        notes.append("Training data: %s (%s rows), C=%s for both scikit-learn models and the "
                     "bundle; SVC has %s support vectors. Not timed." % (
                         tr.get("files"), sk.get("rows"), tr.get("C"), sk.get("svc_support_vectors")))
    ag = (by.get("agree") or [{}])[0].get("m", {})
    if ag:
        notes.append("Label agreement with ours on the first sentences: " +
                     ", ".join("%s %s" % (k, num(v, "%.3f")) for k, v in ag.items()) + ".")
    L += ["- " + n for n in notes]
    L.append("")

    # 3
    L.append("## 3. Daemon over ZeroMQ on loopback (`stance bench`, stance model, default workers: one per core plus one)")
    L.append("")
    # Several rounds of each (server, case): the table shows each side's best
    # round by throughput, and its CPU figures come from that same round.
    rounds, best = {}, {}
    for r in by.get("daemon", []):
        b = r.get("bench", {})
        key = "sentences_per_s" if r["case"].startswith("batch") else "requests_per_s"
        rounds.setdefault((r["server"], r["case"]), []).append(b.get(key))
        old = best.get((r["server"], r["case"]))
        if old is None or (b.get(key) or 0) > (old.get("bench", {}).get(key) or 0):
            best[(r["server"], r["case"])] = r
    d = {k: r.get("bench", {}) for k, r in best.items()}
    cpu = {}
    for k, r in best.items():
        try:
            used = r["server_cpu1"]["cpu_s"] - r["server_cpu0"]["cpu_s"]
            cpu[k] = (used, r.get("client", {}).get("cpu_s"))
        except (KeyError, TypeError):
            pass

    def cpu_per(server, case, unit_count):
        c = cpu.get((server, case))
        if not c or not unit_count:
            return None, None
        return c[0] / unit_count * 1e6, (c[1] / unit_count * 1e6 if isinstance(c[1], (int, float)) else None)
    rows = []
    p99_c4 = None
    for case, what in (("c1", "1 client, 1 sentence/request"), ("c4", "4 clients, 1 sentence/request"),
                       ("c16", "16 clients, 1 sentence/request"), ("batch100", "4 clients, 100 sentences/request")):
        o, p = d.get(("ours", case), {}), d.get(("peer", case), {})
        key = "sentences_per_s" if case == "batch100" else "requests_per_s"
        rr = ratio(o.get(key), p.get(key))
        lo, lp = o.get("latency_ms", {}), p.get("latency_ms", {})
        if case == "c4":
            p99_c4 = lo.get("p99")
        unit = "sent/s" if case == "batch100" else "req/s"
        rows.append([what,
                     "%s %s" % (num(o.get(key)), unit), num(lo.get("p50"), "%.3f"), num(lo.get("p99"), "%.3f"),
                     "%s %s" % (num(p.get(key)), unit), num(lp.get("p50"), "%.3f"), num(lp.get("p99"), "%.3f"),
                     rfmt(rr), verdict(rr, 20),
                     "%s/%s" % (o.get("errors", "?"), p.get("errors", "?"))])
    L += table(["load", "stanced", "p50 ms", "p99 ms", "peer", "p50 ms", "p99 ms", "ours/peer",
                "≥ 20×", "errors ours/peer"], rows)
    L.append("")
    L.append("CPU time, which other work on the machine disturbs much less than throughput "
             "(server: utime+stime of its process during the run, all threads; load: the "
             "`stance bench` process, including building its requests):")
    L.append("")
    rows = []
    for case, what in (("c1", "1 client, per request"), ("c4", "4 clients, per request"),
                       ("c16", "16 clients, per request"), ("batch100", "batch 100, per sentence")):
        per = []
        for srv in ("ours", "peer"):
            b = d.get((srv, case), {})
            n = b.get("sentences") if case == "batch100" else b.get("requests")
            per.append(cpu_per(srv, case, n))
        rr = ratio(per[1][0], per[0][0])
        rows.append([what, num(per[0][0], "%.1f"), num(per[1][0], "%.1f"), rfmt(rr),
                     num(per[0][1], "%.1f"), num(per[1][1], "%.1f")])
    L += table(["load", "stanced CPU µs", "peer CPU µs", "peer/ours", "load generator µs (vs stanced)",
                "load generator µs (vs peer)"], rows)
    L.append("")
    L.append("- p99 of a single-sentence request with 4 clients: %s ms (target < 1 ms: %s)." % (
        num(p99_c4, "%.3f"), "n/a" if p99_c4 is None else ("met" if p99_c4 < 1 else "NOT met")))
    nr = max((len(v) for v in rounds.values()), default=0)
    if nr > 1:
        L.append("- %d alternating rounds, each running every load against stanced and then the "
                 "peer; the tables show each side's best round. All rounds (ours / peer): %s." % (
                     nr, "; ".join("%s %s / %s" % (case, ", ".join(num(x) for x in rounds.get(("ours", case), [])),
                                                   ", ".join(num(x) for x in rounds.get(("peer", case), [])))
                                   for case in ("c1", "c4", "c16", "batch100"))))
    floor = d.get(("echo", "c1"), {}).get("requests_per_s")
    if floor:
        ours_c1 = d.get(("ours", "c1"), {}).get("requests_per_s")
        peer_c1 = d.get(("peer", "c1"), {}).get("requests_per_s")
        L.append("- Transport floor, 1 client: `peer_server.py --echo`, the peer's pyzmq loop answering "
                 "at once with no work, %s req/s (best round; all: %s). stanced reaches %s of it; a "
                 "Python server that did nothing at all would be %s the peer." % (
                     num(floor), ", ".join(num(x) for x in rounds.get(("echo", "c1"), [])),
                     "%.0f%%" % (100 * ours_c1 / floor) if ours_c1 else "n/a",
                     rfmt(ratio(floor, peer_c1))))
    L.append("- Peer: bench/peer_server.py, one Python thread, pyzmq ROUTER + the LinearSVC "
             "pipeline above (softmax of decision values as scores). Requests: %s per stanced "
             "run, %s per peer run; batches of 100: %s and %s." % (
                 d.get(("ours", "c1"), {}).get("requests"), d.get(("peer", "c1"), {}).get("requests"),
                 d.get(("ours", "batch100"), {}).get("requests"),
                 d.get(("peer", "batch100"), {}).get("requests")))
    L.append("")

    # 4
    L.append("## 4. Peak resident memory (VmHWM)")
    L.append("")
    mem = {r["what"]: r.get("m", {}) for r in by.get("mem", [])}
    rows = []
    for w, label in (("stanced_both_idle", "stanced, both bundled models, after start-up"),
                     ("stanced_both_after_load", "stanced, both bundled models, after 4000 requests"),
                     ("stanced_stance_idle", "stanced, stance model only, after start-up"),
                     ("stanced_stance_after_load", "stanced, stance model only, after sections 3 and 5"),
                     ("peer_after_load", "peer server (Python, LinearSVC), after section 3")):
        m = mem.get(w)
        if m is None:
            continue
        if "error" in m:
            rows.append([label, "n/a: " + str(m["error"])[:60]])
        else:
            rows.append([label, "%.1f MiB" % (m["vmhwm_kib"] / 1024.0)])
    L += table(["process", "VmHWM"], rows)
    L.append("")

    # 5
    L.append("## 5. Document mode cost (issue 4)")
    L.append("")
    art = (by.get("splitcount") or [{}])[0].get("m", {})
    def best(prefix):
        runs = [v for (srv, c), v in d.items() if srv == "ours" and c.startswith(prefix)]
        runs = [v for v in runs if isinstance(v.get("requests_per_s"), (int, float))]
        return max(runs, key=lambda v: v["requests_per_s"]) if runs else {}, runs
    ds, ds_all = best("doc_split")
    db, db_all = best("doc_batch")
    per = 20
    s_split = ds.get("requests_per_s", 0) * per if isinstance(ds.get("requests_per_s"), (int, float)) else None
    s_batch = db.get("sentences_per_s")
    rr = ratio(s_split, s_batch)
    L += table(["mode", "requests/s", "sentences/s", "p50 ms", "p99 ms", "errors"], [
        ["one 20-sentence article per request, split on (default)", num(ds.get("requests_per_s")),
         num(s_split), num(ds.get("latency_ms", {}).get("p50"), "%.3f"),
         num(ds.get("latency_ms", {}).get("p99"), "%.3f"), ds.get("errors", "?")],
        ["its 20 sentences as a batch, split off", num(db.get("requests_per_s")),
         num(s_batch), num(db.get("latency_ms", {}).get("p50"), "%.3f"),
         num(db.get("latency_ms", {}).get("p99"), "%.3f"), db.get("errors", "?")]])
    L.append("")
    L.append("- %d alternating rounds of %s requests each, 4 clients; the table shows the "
             "better round of each. All rounds, sentences/s: split %s; batch %s." % (
                 len(ds_all), ds.get("requests", "?"), ", ".join(num(v["requests_per_s"] * per) for v in ds_all),
                 ", ".join(num(v.get("sentences_per_s")) for v in db_all)))
    cs = [cpu_per("ours", k, v.get("requests", 0) * per)[0] for (srv, k), v in d.items()
          if srv == "ours" and k.startswith("doc_split")]
    cb = [cpu_per("ours", k, v.get("sentences"))[0] for (srv, k), v in d.items()
          if srv == "ours" and k.startswith("doc_batch")]
    cs = [x for x in cs if x is not None]
    cb = [x for x in cb if x is not None]
    if cs and cb:
        L.append("- stanced CPU per sentence: split %s µs, batch %s µs; ratio %s (less "
                 "disturbed by the machine's load than the throughput ratio)." % (
                     "/".join("%.2f" % x for x in cs), "/".join("%.2f" % x for x in cb),
                     rfmt(min(cs) / min(cb))))
    L.append("- split/batch throughput ratio: %s (document mode costs %s per sentence)." % (
        num(rr, "%.2f"), num(1 / rr, "%.2f×") if rr else "n/a"))
    if art:
        L.append("- The splitter found %s sentences per article (20 were joined); sentences/s above "
                 "counts the 20 input sentences." % num(art.get("per_document"), "%.2f"))
    L.append("")

    ex = by.get("exit", [])
    if ex:
        L.append("stanced exit status on SIGTERM: " +
                 ", ".join("%s: %s" % (r["what"], r["rc"]) for r in ex) + " (0 expected).")
    errs = [r for r in by.get("daemon", []) if "error" in r.get("bench", {}) or r.get("bench", {}).get("errors")]
    for r in errs:
        L.append("WARNING: %s %s: %s" % (r["server"], r["case"], json.dumps(r["bench"])[:300]))
    for r in by.get("unparsed", []):
        L.append("WARNING: unparsed result line: %s" % r["line"])
    # A step that failed (as opposed to a target not met) fails the run.
    failed = []
    for r in by.get("speed", []):
        if "error" in r.get("m", {}) and "missing" not in str(r["m"]["error"]):
            failed.append("speed %s" % r["model"])
    for r in by.get("label", []):
        t = r.get("t") or r.get("inner") or {}
        if t.get("rc") != 0:
            failed.append("label %s" % r["sys"])
    for r in by.get("daemon", []):
        b = r.get("bench", {})
        if "error" in b or b.get("errors"):
            failed.append("daemon %s %s" % (r["server"], r["case"]))
    for r in ex:
        if str(r["rc"]) != "0":
            failed.append("%s exit %s" % (r["what"], r["rc"]))
    if failed:
        L.append("")
        L.append("FAILED steps: " + ", ".join(failed) + " (see build/bench/results.jsonl).")
    text = "\n".join(L) + "\n"
    sys.stdout.write(text)
    if md_path:
        with open(md_path, "w", encoding="utf-8") as f:
            f.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
