"""stanced under concurrent load, reloads (op and SIGHUP, good and
corrupt bundles) and shutdown. Every loop is bounded in count and time;
every reply must be matched to its request by id."""

import os
import shutil
import signal
import tempfile
import threading
import time
import unittest

import zmq

from tests.integration import harness

CLIENTS = 16
PER_CLIENT = 40
IN_FLIGHT = 4          # requests each DEALER keeps outstanding
LOAD_TIMEOUT = 120.0   # seconds for the whole load run
TEXTS = ["Troops massed at the border. Talks resume on Monday.",
         "The two governments agreed to resume talks on the disputed river border.",
         "The ministry summoned the ambassador to protest against the remarks."]


def run_client(endpoint, n, prefix, results, errors, deadline):
    """One DEALER client: n classify requests with up to IN_FLIGHT
    outstanding; records each reply by id and any problem in errors."""
    c = harness.Client(endpoint, zmq.DEALER, delimiter=(hash(prefix) % 2 == 0))
    sent = got = 0
    try:
        while got < n and time.monotonic() < deadline:
            while sent < n and sent - got < IN_FLIGHT:
                c.send({"id": "%s-%d" % (prefix, sent), "texts": TEXTS[:1 + sent % 3],
                        "split": sent % 2 == 0})
                sent += 1
            r = c.recv(timeout=max(0.1, deadline - time.monotonic()))
            got += 1
            results[r["id"]] = r
    except Exception as e:  # reported by the test, not lost in the thread
        errors.append("%s: %r" % (prefix, e))
    finally:
        c.close()


class Load(harness.DaemonCase):
    workers = 2
    limits = {"max_queue": 8}

    def load(self, during=None):
        """Runs CLIENTS clients at once (and `during` alongside), then
        checks every request got exactly its reply, ok or busy."""
        results, errors = {}, []
        deadline = time.monotonic() + LOAD_TIMEOUT
        threads = [threading.Thread(target=run_client,
                                    args=(self.daemon.endpoint, PER_CLIENT, "c%d" % i,
                                          results, errors, deadline))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        if during:
            during()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic() + 5))
        self.assertFalse(any(t.is_alive() for t in threads), "clients still running")
        self.assertEqual(errors, [])
        expected = {"c%d-%d" % (i, k) for i in range(CLIENTS) for k in range(PER_CLIENT)}
        self.assertEqual(set(results), expected)
        busy = 0
        for ident, r in results.items():
            if "error" in r:
                self.assertEqual(r["error"]["code"], "busy", r)
                busy += 1
            else:
                k = int(ident.split("-")[1])
                self.assertEqual(len(r["results"]), 1 + k % 3)
                for res in r["results"]:
                    self.assertScoresSumToOne(res["scores"])
        return busy

    def test_load(self):
        self.load()
        self.assertServing()
        stats = self.request({"op": "stats"})["stats"]
        self.assertGreaterEqual(stats["requests"], CLIENTS * PER_CLIENT)

    def test_reload_during_load(self):
        replies = []

        def reloads():
            for i in range(5):
                replies.append(self.request({"op": "reload", "id": i}, timeout=60))
                if i == 2:
                    self.daemon.signal(signal.SIGHUP)
                time.sleep(0.05)

        self.load(during=reloads)
        for r in replies:
            self.assertTrue(r.get("ok") is True or r["error"]["code"] == "busy", r)
        self.assertServing()


class Reload(harness.DaemonCase):
    """The daemon serves copies of a bundle that the tests damage."""

    @classmethod
    def setUpClass(cls):
        cls.good = harness.train_bundle("stance", harness.MINI_STANCE)
        cls.tmp = tempfile.mkdtemp(prefix="stanced-reload-")
        cls.live = harness.copy_bundle(cls.good, os.path.join(cls.tmp, "stance"))
        cls.daemon = harness.Daemon(cls.tmp, [("stance", cls.live)])
        cls.daemon.start()

    def setUp(self):
        harness.copy_bundle(self.good, self.live)
        self.daemon.configure(models=[("stance", self.live)], extra="")
        self.assertEqual(self.request({"op": "reload"}).get("ok"), True)

    def generation(self):
        return self.request({"op": "models"})["generation"]

    def classify_ok(self):
        r = self.request({"text": "The army shelled villages near the frontier.", "split": False})
        self.assertEqual(r["results"][0]["label"]["stance"], "escalatory", r)

    def test_good_reload(self):
        g = self.generation()
        r = self.request({"op": "reload", "id": 1})
        self.assertEqual(r["ok"], True, r)
        self.assertEqual(r["models"], ["stance"])
        self.assertEqual(self.generation(), g + 1)
        self.classify_ok()

    def test_corrupt_model_keeps_old(self):
        g = self.generation()
        with open(os.path.join(self.live, "model.svm"), "w") as f:
            f.write("svm_type c_svc\nkernel_type linear\nnr_class 4\ngarbage\n")
        self.assertError(self.request({"op": "reload"}), "reload_failed")
        self.assertEqual(self.generation(), g)
        self.classify_ok()

    def test_reload_between_schemes(self):
        ovr = harness.train_bundle("stance", harness.MINI_STANCE, options=("--scheme", "ovr"))
        harness.copy_bundle(ovr, self.live)
        self.assertEqual(self.request({"op": "reload"}).get("ok"), True)
        self.assertEqual(self.request({"op": "models"})["models"][0]["scheme"], "one-vs-rest")
        self.classify_ok()
        # a one-vs-rest bundle without one of its label's models keeps the old one serving
        os.remove(os.path.join(self.live, "model.2.svm"))
        r = self.request({"op": "reload"})
        self.assertError(r, "reload_failed")
        self.assertIn("model.2.svm", r["error"]["message"])
        self.assertEqual(self.request({"op": "models"})["models"][0]["scheme"], "one-vs-rest")
        self.classify_ok()

    def test_truncated_vocab_keeps_old(self):
        with open(os.path.join(self.live, "vocab.tsv"), "r+") as f:
            f.truncate(10)
        self.assertError(self.request({"op": "reload"}), "reload_failed")
        self.classify_ok()

    def test_missing_dir_keeps_old(self):
        self.daemon.configure(models=[("stance", os.path.join(self.tmp, "nowhere"))])
        r = self.request({"op": "reload"})
        self.assertError(r, "reload_failed")
        self.assertIn("nowhere", r["error"]["message"])
        self.classify_ok()

    def test_broken_config_keeps_old(self):
        self.daemon.configure(extra="bogus_key: 1\n")
        r = self.request({"op": "reload"})
        self.assertError(r, "reload_failed")
        self.assertIn("bogus_key", r["error"]["message"])
        self.classify_ok()

    def test_label_mismatch_keeps_old(self):
        path = os.path.join(self.live, "manifest.yaml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("escalatory", "belligerent", 1))
        r = self.request({"op": "reload"})
        self.assertError(r, "reload_failed")
        self.assertIn("labels", r["error"]["message"])
        self.classify_ok()

    def test_sighup(self):
        g = self.generation()
        self.daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while self.generation() == g and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.generation(), g + 1)
        self.assertIn("SIGHUP", self.daemon.log())

    def test_failed_sighup_keeps_serving(self):
        # Only log lines written after the signal count: earlier tests' failed
        # reloads are in the log too, and returning before this reload has run
        # lets it land in the next test.
        seen = len(self.daemon.log())
        shutil.rmtree(self.live)
        self.daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while "reload failed" not in self.daemon.log()[seen:] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("reload failed", self.daemon.log()[seen:])
        self.classify_ok()


class Shutdown(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stanced-stop-")
        self.daemon = harness.Daemon(self.tmp, [("stance", harness.train_bundle())], workers=1)
        self.daemon.start()

    def tearDown(self):
        self.daemon.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sigterm_finishes_in_flight(self):
        text = "Troops massed at the border. Talks resume on Monday. " * 200
        with self.daemon.client(zmq.DEALER) as c:
            for i in range(4):
                c.send({"id": i, "texts": [text] * 5, "explain": 3})
            time.sleep(0.05)
            self.daemon.signal(signal.SIGTERM)
            got = []
            try:
                for _ in range(4):
                    got.append(c.recv(timeout=20)["id"])
            except TimeoutError:
                pass
        rc = self.daemon.stop()
        self.assertEqual(rc, 0, self.daemon.log())
        # The first request was surely in flight when the signal came.
        self.assertIn(0, got)

    def test_sigint(self):
        self.daemon.signal(signal.SIGINT)
        self.assertEqual(self.daemon.stop(), 0)

    def test_stops_accepting(self):
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.stop(), 0)
        with self.daemon.client() as c:
            with self.assertRaises(TimeoutError):
                c.request({"op": "ping"}, timeout=0.5)


if __name__ == "__main__":
    unittest.main()
