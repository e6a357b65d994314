"""`stance-train`, driven as a user would: the real binary on the small
labelled sets in tests/data. Covers `train` (the bundle's files and the
options its manifest records, the class-ratio columns that --mnb adds),
`predict` (the fast path against libsvm's own prediction, one thread
against two), `cv` and `eval` (the JSON figures and the readable
report), and the exit codes and messages of bad options, missing data and
damaged bundles.

Every run is bounded in time and every file is written under a temporary
directory that is removed afterwards."""

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.integration import harness

RUN_TIMEOUT = 120  # seconds for any one run (ASan builds are slow)

STANCE_LABELS = ["conciliatory", "distrustful", "escalatory", "neutral"]
SENTIMENT_LABELS = ["negative", "neutral", "positive"]
FIGURE_KEYS = {"n", "accuracy", "macro_f1", "per_class", "confusion"}

VOCAB_HEADER = "# id\tdf\tidf\tnb\tfeature"
MNB_VOCAB_HEADER = "# id\tdf\tidf\tnb\tmnb:0\tmnb:1\tmnb:2\tmnb:3\tfeature"


def run(*args, input=None, timeout=RUN_TIMEOUT):
    """Runs stance-train with args; returns the CompletedProcess (text)."""
    return subprocess.run([harness.program("stance-train")] + list(args), input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def read_rows(path):
    """The (label, sentence) rows of a TSV data file, in order."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                label, _, text = line.partition("\t")
                rows.append((label, text))
    return rows


def manifest_section(bundle, section):
    """{key: value} of one top-level mapping of the bundle's manifest.yaml
    (e.g. features). The writer's scalars and flow lists are JSON, so each
    value is parsed as JSON; nested mappings are left out."""
    out, inside = {}, False
    with open(os.path.join(bundle, "manifest.yaml"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith(" "):
                inside = line == section + ":"
                continue
            m = re.match(r"^  ([A-Za-z0-9_]+): (.+)$", line)
            if inside and m:
                out[m.group(1)] = json.loads(m.group(2))
    if not out:
        raise AssertionError("%s/manifest.yaml has no %s section" % (bundle, section))
    return out


def manifest_labels(bundle):
    with open(os.path.join(bundle, "manifest.yaml"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("labels: "):
                return json.loads(line[len("labels: "):])
    raise AssertionError("%s/manifest.yaml has no labels" % bundle)


def read_vocab(bundle):
    """(header line, [fields of each entry line]) of the bundle's vocab.tsv."""
    with open(os.path.join(bundle, "vocab.tsv"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0].startswith("# "):
        raise AssertionError("%s/vocab.tsv has no header" % bundle)
    return lines[0], [l.split("\t") for l in lines[1:]]


def max_model_feature(bundle):
    """The highest feature index any support vector of model.svm uses."""
    top = 0
    with open(os.path.join(bundle, "model.svm"), encoding="ascii") as f:
        for line in f:
            if line.strip() == "SV":
                break
        for line in f:
            for field in line.split():
                if ":" in field:
                    top = max(top, int(field.split(":", 1)[0]))
    return top


class TrainCase(unittest.TestCase):
    """Trains, once for the class, a default bundle (the harness's cached
    one) and --mnb 10, --no-punct, --scheme ovr and RBF --scheme ovr
    bundles of tests/data/mini_stance.tsv into a temporary directory."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stance-train-test-")
        try:
            cls.default = harness.train_bundle("stance", harness.MINI_STANCE)
            cls.mnb = cls.train("mnb", "--mnb", "10")
            cls.nopunct = cls.train("nopunct", "--no-punct")
            cls.ovr = cls.train("ovr", "--scheme", "ovr")
            cls.rbf_ovr = cls.train("rbf-ovr", "--scheme", "ovr", "--kernel", "rbf", "--folds", "0")
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def train(cls, name, *options, data=harness.MINI_STANCE):
        out = os.path.join(cls.tmp, name)
        p = run("train", "--data", data, "--out", out, "--name", name, *options)
        if p.returncode != 0:
            raise AssertionError("stance-train train %s failed (exit %d): %s"
                                 % (" ".join(options), p.returncode, p.stderr))
        return out

    def scratch(self):
        """A temporary directory removed after the test."""
        d = tempfile.mkdtemp(dir=self.tmp)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def assertFigures(self, fig, labels, rows):
        """fig is the JSON figures of `rows` labelled sentences over labels."""
        self.assertEqual(set(fig), FIGURE_KEYS, fig)
        self.assertEqual(fig["n"], rows)
        self.assertEqual(list(fig["per_class"]), labels)
        for label, pc in fig["per_class"].items():
            for k in ("precision", "recall", "f1"):
                self.assertGreaterEqual(pc[k], 0, (label, pc))
                self.assertLessEqual(pc[k], 1, (label, pc))
        conf = fig["confusion"]
        self.assertEqual(conf["labels"], labels)
        matrix = conf["matrix"]
        self.assertEqual(len(matrix), len(labels))
        for row in matrix:
            self.assertEqual(len(row), len(labels))
        self.assertEqual(sum(map(sum, matrix)), rows)
        # rows are the truth: each row sums to that label's support
        for label, row in zip(labels, matrix):
            self.assertEqual(sum(row), fig["per_class"][label]["support"], label)
        # the figures are the matrix's, rounded to 4 decimals
        correct = sum(matrix[i][i] for i in range(len(labels)))
        self.assertAlmostEqual(fig["accuracy"], correct / rows, places=4)
        for i, label in enumerate(labels):
            predicted = sum(r[i] for r in matrix)
            if predicted:
                self.assertAlmostEqual(fig["per_class"][label]["precision"],
                                       matrix[i][i] / predicted, places=4, msg=label)
            self.assertAlmostEqual(fig["per_class"][label]["recall"],
                                   matrix[i][i] / sum(matrix[i]), places=4, msg=label)
        f1s = [fig["per_class"][l]["f1"] for l in labels]
        self.assertAlmostEqual(fig["macro_f1"], sum(f1s) / len(f1s), places=3)


class TrainTest(TrainCase):

    def test_default_bundle_files_and_manifest(self):
        for f in ("manifest.yaml", "vocab.tsv", "model.svm"):
            self.assertTrue(os.path.isfile(os.path.join(self.default, f)), f)
        self.assertEqual(manifest_labels(self.default), STANCE_LABELS)
        features = manifest_section(self.default, "features")
        self.assertIs(features["punct"], True, features)
        self.assertEqual(features["mnb"], 0, features)
        for flag in ("words", "bigrams", "negation", "idf", "nb", "l2"):
            self.assertIs(features[flag], True, (flag, features))
        training = manifest_section(self.default, "training")
        self.assertEqual(training["rows"], len(read_rows(harness.MINI_STANCE)))
        self.assertEqual(training["files"], ["mini_stance.tsv"])

    def test_default_vocab_matches_manifest_and_model(self):
        header, entries = read_vocab(self.default)
        self.assertEqual(header, VOCAB_HEADER)
        self.assertTrue(entries)
        for i, e in enumerate(entries):
            self.assertEqual(len(e), 5, e)
            self.assertEqual(int(e[0]), i, e)
        model = manifest_section(self.default, "model")
        self.assertEqual(model["vocabulary"], len(entries))
        self.assertEqual(model["kernel"], "linear")
        # without --mnb the model uses vocabulary features only
        self.assertLessEqual(max_model_feature(self.default), len(entries))

    def test_no_punct_is_recorded_and_drops_punctuation_features(self):
        features = manifest_section(self.nopunct, "features")
        self.assertIs(features["punct"], False, features)
        self.assertEqual(features["mnb"], 0, features)
        _, with_punct = read_vocab(self.default)
        _, without = read_vocab(self.nopunct)
        has_mark = re.compile(r"[.,;:]")
        self.assertTrue(any(has_mark.search(e[-1]) for e in with_punct))
        self.assertEqual([e[-1] for e in without if has_mark.search(e[-1])], [])

    def test_mnb_is_recorded(self):
        features = manifest_section(self.mnb, "features")
        self.assertEqual(features["mnb"], 10, features)
        self.assertIs(features["punct"], True, features)

    def test_mnb_vocab_has_one_ratio_column_per_label(self):
        header, entries = read_vocab(self.mnb)
        self.assertEqual(header, MNB_VOCAB_HEADER)
        _, plain = read_vocab(self.default)
        self.assertEqual(len(entries), len(plain))
        for e, p in zip(entries, plain):
            self.assertEqual(len(e), 9, e)
            ratios = [float(x) for x in e[4:8]]
            self.assertTrue(all(math.isfinite(r) for r in ratios), e)
            # the ratios are added: the other columns are the default bundle's
            self.assertEqual(e[:4] + e[8:], p, (e, p))
        # the ratio columns carry information (not all zero)
        self.assertTrue(any(float(x) != 0 for e in entries for x in e[4:8]))
        # and the model uses the 4 appended class features after the vocabulary
        self.assertEqual(max_model_feature(self.mnb), len(entries) + 4)

    def test_one_vs_rest_has_a_binary_model_per_label(self):
        self.assertEqual(manifest_section(self.default, "model")["scheme"], "one-vs-one")
        model = manifest_section(self.ovr, "model")
        self.assertEqual(model["scheme"], "one-vs-rest")
        self.assertEqual(sorted(os.listdir(self.ovr)),
                         ["manifest.yaml"] + ["model.%d.svm" % i for i in range(4)] + ["vocab.tsv"])
        support_vectors = 0
        for i in range(4):
            with open(os.path.join(self.ovr, "model.%d.svm" % i)) as f:
                head = dict(line.rstrip("\n").split(" ", 1) for line in f if line != "SV\n"
                            and not line[0].isdigit() and not line[0] == "-")
            self.assertEqual(head["nr_class"], "2", i)
            self.assertEqual(sorted(head["label"].split()), ["0", "1"], i)
            self.assertIn("probA", head, i)
            support_vectors += int(head["total_sv"])
        self.assertEqual(model["support_vectors"], support_vectors)

    def test_json_prints_the_manifest(self):
        out = os.path.join(self.scratch(), "b")
        p = self.assertOk(run("train", "--data", harness.MINI_SENTIMENT, "--out", out,
                              "--name", "senti", "--folds", "3", "--json"))
        man = json.loads(p.stdout)
        self.assertEqual(man["name"], "senti")
        self.assertEqual(man["labels"], SENTIMENT_LABELS)
        self.assertEqual(man["training"]["rows"], 45)
        self.assertEqual(man["evaluation"]["cv"]["folds"], 3)
        self.assertEqual(manifest_labels(out), SENTIMENT_LABELS)


class PredictTest(TrainCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rows = read_rows(harness.MINI_STANCE)
        cls.input = "".join(text + "\n" for _, text in cls.rows)

    def predict(self, bundle, *options, input=None):
        p = self.assertOk(run("predict", "--model", bundle, *options,
                              input=self.input if input is None else input))
        return p.stdout

    def check_lines(self, out, n):
        """n lines of label and 4 probabilities with 6 decimals, summing to
        1, the label being the most probable; returns the labels."""
        lines = out.split("\n")
        self.assertEqual(lines[-1], "", "output does not end with a newline")
        lines = lines[:-1]
        self.assertEqual(len(lines), n)
        labels = []
        for line in lines:
            fields = line.split("\t")
            self.assertEqual(len(fields), 1 + len(STANCE_LABELS), line)
            self.assertIn(fields[0], STANCE_LABELS, line)
            for x in fields[1:]:
                self.assertRegex(x, r"^[01]\.\d{6}$", line)
            probs = [float(x) for x in fields[1:]]
            self.assertAlmostEqual(sum(probs), 1.0, delta=1e-5, msg=line)
            self.assertEqual(probs[STANCE_LABELS.index(fields[0])], max(probs), line)
            labels.append(fields[0])
        return labels

    def test_fast_path_and_libsvm_print_the_same(self):
        for name, bundle in (("default", self.default), ("mnb 10", self.mnb), ("ovr", self.ovr),
                             ("rbf ovr", self.rbf_ovr)):
            with self.subTest(bundle=name):
                fast = self.predict(bundle)
                slow = self.predict(bundle, "--libsvm")
                labels = self.check_lines(fast, len(self.rows))
                self.assertEqual(fast, slow)
                # the bundle was trained on these sentences: it knows most of them
                right = sum(a == b for a, (b, _) in zip(labels, self.rows))
                self.assertGreaterEqual(right, 0.9 * len(self.rows), name)

    def test_two_threads_keep_the_input_order(self):
        # predict splits blocks of 256 lines or more between two threads
        doubled = self.input * 2
        one = self.predict(self.default, "--threads", "1", input=doubled)
        two = self.predict(self.default, "--threads", "2", input=doubled)
        slow = self.predict(self.default, "--libsvm", "--threads", "2", input=doubled)
        self.assertEqual(one, two)
        self.assertEqual(one, slow)
        lines = one.split("\n")[:-1]
        self.assertEqual(len(lines), 2 * len(self.rows))
        self.assertEqual(lines[:len(self.rows)], lines[len(self.rows):])

    def test_input_file_and_last_line_without_newline(self):
        path = os.path.join(self.scratch(), "in.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.input.rstrip("\n"))
        from_file = self.predict(self.default, "--input", path, input="")
        self.assertEqual(from_file, self.predict(self.default))

    def test_invalid_line_prints_error_and_fails(self):
        # invalid UTF-8 between two good lines: bytes, so not through run()
        data = (self.rows[0][1] + "\n").encode() + b"\xff\xfe\n" + (self.rows[-1][1] + "\n").encode()
        p = subprocess.run([harness.program("stance-train"), "predict", "--model", self.default],
                           input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stdout.decode().split("\n")
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(lines[1], "error")
        self.assertEqual(lines[0].split("\t")[0], self.rows[0][0])
        self.assertEqual(lines[2].split("\t")[0], self.rows[-1][0])
        self.assertIn(b"UTF-8", p.stderr)


class CrossValidationTest(TrainCase):

    def cv(self, *options, data=harness.MINI_STANCE):
        return self.assertOk(run("cv", "--data", data, "--folds", "3", "--seed", "1", *options))

    def test_json_figures(self):
        p = self.cv("--json")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertFigures(json.loads(lines[0]), STANCE_LABELS, len(read_rows(harness.MINI_STANCE)))

    def test_same_seed_same_output(self):
        first = self.cv("--json").stdout
        self.assertEqual(self.cv("--json").stdout, first)
        # the folds depend on the seed, not on the thread count
        self.assertEqual(self.cv("--json", "--threads", "1").stdout, first)

    def test_mnb(self):
        p = self.cv("--json", "--mnb", "10")
        self.assertFigures(json.loads(p.stdout), STANCE_LABELS, len(read_rows(harness.MINI_STANCE)))

    def test_one_vs_rest(self):
        fig = json.loads(self.cv("--json", "--scheme", "ovr").stdout)
        self.assertFigures(fig, STANCE_LABELS, len(read_rows(harness.MINI_STANCE)))
        # held-out folds of four labels: well above the quarter a guess gets
        self.assertGreater(fig["accuracy"], 0.5, fig)

    def test_three_labels(self):
        p = self.cv("--json", data=harness.MINI_SENTIMENT)
        self.assertFigures(json.loads(p.stdout), SENTIMENT_LABELS, 45)

    def test_readable_report(self):
        p = self.cv()
        self.assertTrue(p.stdout.startswith("3-fold cross-validation, C=1\n"), p.stdout)
        self.assertIn("accuracy=", p.stdout)
        self.assertIn("macro-F1=", p.stdout)
        for label in STANCE_LABELS:
            self.assertRegex(p.stdout, r"(?m)^%s\s" % label)

    def test_matches_the_report(self):
        fig = json.loads(self.cv("--json").stdout)
        text = self.cv().stdout
        self.assertIn("accuracy=%.4f" % fig["accuracy"], text)
        self.assertIn("macro-F1=%.4f" % fig["macro_f1"], text)


class EvalTest(TrainCase):

    def eval(self, bundle, *options, data=harness.MINI_STANCE):
        return self.assertOk(run("eval", "--model", bundle, "--data", data, *options))

    def test_json_figures(self):
        for name, bundle in (("default", self.default), ("mnb 10", self.mnb), ("ovr", self.ovr)):
            with self.subTest(bundle=name):
                fig = json.loads(self.eval(bundle, "--json").stdout)
                self.assertFigures(fig, STANCE_LABELS, len(read_rows(harness.MINI_STANCE)))
                # its own training data: nearly all right
                self.assertGreaterEqual(fig["accuracy"], 0.9, fig)

    def test_libsvm_gives_the_same_figures(self):
        for bundle in (self.mnb, self.ovr):
            self.assertEqual(self.eval(bundle, "--json", "--libsvm").stdout,
                             self.eval(bundle, "--json").stdout)

    def test_on_other_data_with_the_bundles_labels(self):
        bundle = self.train("senti", data=harness.MINI_SENTIMENT)
        fig = json.loads(self.eval(bundle, "--json", data=harness.MINI_SENTIMENT).stdout)
        self.assertFigures(fig, SENTIMENT_LABELS, 45)
        # stance data has labels the sentiment bundle does not know
        p = run("eval", "--model", bundle, "--data", harness.MINI_STANCE)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("mini_stance.tsv:", p.stderr)
        self.assertIn("label not among the model's labels", p.stderr)

    def test_readable_report_names_every_label(self):
        out = self.eval(self.default).stdout
        self.assertTrue(out.startswith("model stance on mini_stance.tsv\n"), out)
        self.assertIn("accuracy=", out)
        for label in STANCE_LABELS:
            # once in the per-label table, once as a confusion row
            self.assertEqual(len(re.findall(r"(?m)^%s\s" % label, out)), 2, (label, out))


class ErrorTest(TrainCase):

    def assertFails(self, proc, code):
        self.assertEqual(proc.returncode, code, "stdout: %s\nstderr: %s" % (proc.stdout, proc.stderr))
        self.assertEqual(proc.stdout, "")
        self.assertTrue(proc.stderr.startswith("stance-train: "), proc.stderr)
        return proc.stderr

    def test_usage_errors(self):
        out = os.path.join(self.scratch(), "b")
        cases = [(["--mnb", "-1"], "--mnb"), (["--mnb", "nan"], "--mnb"),
                 (["--C", "0"], "--C"), (["--C", "-2"], "--C"), (["--C", "x"], "--C"),
                 (["--folds", "1e10"], "--folds"), (["--folds", "2.5"], "--folds"),
                 (["--seed", "-1"], "--seed"), (["--threads", "0"], "--threads"),
                 (["--min-df", "1e300"], "--min-df"), (["--scheme", "ova"], "--scheme")]
        for options, word in cases:
            for cmd in ("train", "cv"):
                with self.subTest(cmd=cmd, options=options):
                    args = [cmd, "--data", harness.MINI_STANCE] + options
                    if cmd == "train":
                        args += ["--out", out, "--name", "x"]
                    err = self.assertFails(run(*args), 2)
                    self.assertIn(word, err)
                    self.assertFalse(os.path.exists(out), "a bundle was written")

    def test_command_and_option_errors(self):
        self.assertIn("unknown command", self.assertFails(run("fit"), 2))
        self.assertIn("missing command", self.assertFails(run(), 2))
        # getopt's own complaint comes first here
        p = run("cv", "--data", harness.MINI_STANCE, "--bogus")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("'--bogus'", p.stderr)
        self.assertIn("stance-train: unknown option", p.stderr)
        self.assertIn("train needs", self.assertFails(run("train", "--data", harness.MINI_STANCE), 2))
        self.assertIn("eval needs", self.assertFails(run("eval", "--model", self.default), 2))
        p = self.assertOk(run("--help"))
        self.assertTrue(p.stdout.startswith("usage: stance-train COMMAND"), p.stdout)
        self.assertIn("--mnb S", p.stdout)

    def test_missing_data_file(self):
        d = self.scratch()
        missing = os.path.join(d, "no-such-data.tsv")
        out = os.path.join(d, "b")
        runs = {"train": run("train", "--data", missing, "--out", out, "--name", "x"),
                "cv": run("cv", "--data", missing),
                "eval": run("eval", "--model", self.default, "--data", missing)}
        for cmd, p in runs.items():
            with self.subTest(cmd=cmd):
                err = self.assertFails(p, 1)
                self.assertIn(missing, err)
                self.assertIn("No such file", err)
        self.assertFalse(os.path.exists(out), "a bundle was written")

    def test_too_few_folds(self):
        for folds in ("0", "1", "161"):
            with self.subTest(folds=folds):
                err = self.assertFails(run("cv", "--data", harness.MINI_STANCE, "--folds", folds), 1)
                self.assertIn("folds must be between 2 and the number of rows (160)", err)

    def test_negative_folds(self):
        p = run("cv", "--data", harness.MINI_STANCE, "--folds", "-1")
        self.assertIn(p.returncode, (1, 2), p.stderr)
        self.assertIn("folds", p.stderr)

    def damaged(self, src, name):
        return harness.copy_bundle(src, os.path.join(self.scratch(), name))

    def eval_fails(self, bundle):
        return self.assertFails(run("eval", "--model", bundle, "--data", harness.MINI_STANCE), 1)

    def test_vocab_cut_mid_line(self):
        bundle = self.damaged(self.default, "cut")
        path = os.path.join(bundle, "vocab.tsv")
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
        err = self.eval_fails(bundle)
        self.assertIn(path, err)
        self.assertIn("malformed vocabulary line", err)

    def test_vocab_cut_at_a_line_end(self):
        # every remaining line is well formed: only the manifest's count shows it
        bundle = self.damaged(self.default, "short")
        path = os.path.join(bundle, "vocab.tsv")
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines[:len(lines) // 2])
        err = self.eval_fails(bundle)
        self.assertIn(path, err)
        self.assertIn("the manifest says", err)

    def set_manifest_mnb(self, bundle, old, new):
        path = os.path.join(bundle, "manifest.yaml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count("\n  mnb: %s\n" % old), 1, text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("\n  mnb: %s\n" % old, "\n  mnb: %s\n" % new))

    def test_manifest_mnb_without_ratio_columns(self):
        bundle = self.damaged(self.default, "mnb-without-ratios")
        self.set_manifest_mnb(bundle, "0", "10")
        err = self.eval_fails(bundle)
        self.assertIn(os.path.join(bundle, "vocab.tsv"), err)
        self.assertIn("class ratios", err)
        self.assertIn("need 4", err)

    def test_ratio_columns_without_manifest_mnb(self):
        bundle = self.damaged(self.mnb, "ratios-without-mnb")
        self.set_manifest_mnb(bundle, "10", "0")
        err = self.eval_fails(bundle)
        self.assertIn(os.path.join(bundle, "vocab.tsv"), err)
        self.assertIn("class ratios", err)

    def test_missing_bundle(self):
        missing = os.path.join(self.scratch(), "no-bundle")
        for cmd in ("eval", "predict"):
            with self.subTest(cmd=cmd):
                p = run(cmd, "--model", missing, "--data", harness.MINI_STANCE) if cmd == "eval" \
                    else run(cmd, "--model", missing, input="")
                err = self.assertFails(p, 1)
                self.assertIn(missing, err)
                self.assertIn("not a bundle directory", err)


if __name__ == "__main__":
    unittest.main()
