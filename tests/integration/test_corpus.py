"""The training corpora keep the promises of training/corpus/README.md:
well-formed lines with known labels, no sentence twice, no near-duplicates
among the sentences written for the project, and nothing from a dev set in
training (not even a near copy).
"""

import glob
import math
import os
import re
import unittest
from collections import Counter, defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "training", "corpus")
LABELS = {
    "stance": {"conciliatory", "distrustful", "escalatory", "neutral"},
    "sentiment": {"negative", "neutral", "positive"},
}
# The README's rule for written sentences: no two share more than half their
# words (Jaccard similarity of their word sets).
NEAR = 0.5
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def read_rows(path):
    rows = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.decode("utf-8").rstrip("\n")
            label, sep, text = line.partition("\t")
            rows.append((n, label, text if sep else None))
    return rows


def words(text):
    return frozenset(WORD.findall(text.lower().replace("\u2019", "'")))


def near_pairs(sets_a, sets_b, threshold):
    """Pairs (i, j) with Jaccard(sets_a[i], sets_b[j]) > threshold, found by
    prefix filtering: two sets that similar must share one of the rarest
    words among the first |x| - ceil(threshold * |x|) + 1 of either."""
    freq = Counter(w for s in sets_a + sets_b for w in s)

    def prefix(s):
        ordered = sorted(s, key=lambda w: (freq[w], w))
        return ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]

    index = defaultdict(list)
    for j, s in enumerate(sets_b):
        for w in prefix(s):
            index[w].append(j)
    found = set()
    for i, s in enumerate(sets_a):
        seen = set()
        for w in prefix(s):
            for j in index[w]:
                if j in seen or (sets_a is sets_b and j <= i):
                    continue
                seen.add(j)
                t = sets_b[j]
                inter = len(s & t)
                if inter and inter / (len(s) + len(t) - inter) > threshold:
                    found.add((i, j))
    return sorted(found)


class Corpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = {}
        for task in LABELS:
            paths = sorted(glob.glob(os.path.join(CORPUS, task + "_*.tsv")))
            cls.files[task] = {os.path.basename(p): read_rows(p) for p in paths}

    def training(self, task, only_written=False):
        out = []
        for name, rows in self.files[task].items():
            if "_dev_" in name or (only_written and "_written_" not in name):
                continue
            out += [(name, n, label, text) for n, label, text in rows]
        return out

    def test_lines_are_label_tab_sentence(self):
        for task, files in self.files.items():
            self.assertTrue(files, task)
            for name, rows in files.items():
                for n, label, text in rows:
                    where = "%s:%d" % (name, n)
                    self.assertIn(label, LABELS[task], where)
                    self.assertIsNotNone(text, where + ": no tab")
                    self.assertNotIn("\t", text, where)
                    self.assertGreaterEqual(len(words(text)), 3, where)

    def test_no_sentence_twice(self):
        for task in LABELS:
            seen = {}
            for name, n, _, text in self.training(task):
                key = " ".join(text.lower().split())
                if key in seen:
                    self.fail("%s:%d repeats %s" % (name, n, seen[key]))
                seen[key] = "%s:%d" % (name, n)

    def test_no_near_duplicates_among_written_sentences(self):
        for task in LABELS:
            rows = self.training(task, only_written=True)
            sets = [words(r[3]) for r in rows]
            pairs = near_pairs(sets, sets, NEAR)
            shown = ["%s:%d ~ %s:%d" % (rows[i][0], rows[i][1], rows[j][0], rows[j][1])
                     for i, j in pairs[:10]]
            self.assertEqual(pairs, [], "%s: %d near-duplicate pairs, e.g. %s"
                             % (task, len(pairs), shown))

    def test_nothing_from_a_dev_set_in_training(self):
        for task in LABELS:
            dev = [r for name, rows in self.files[task].items() if "_dev_" in name
                   for r in rows]
            self.assertTrue(dev, task + ": no dev file")
            train = self.training(task)
            pairs = near_pairs([words(r[3]) for r in train], [words(r[2]) for r in dev], NEAR)
            shown = ["%s:%d" % (train[i][0], train[i][1]) for i, _ in pairs[:10]]
            self.assertEqual(pairs, [], "%s: training rows close to dev rows: %s" % (task, shown))


if __name__ == "__main__":
    unittest.main()
