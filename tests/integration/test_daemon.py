"""stanced over real sockets: classification replies, the other ops, and
every kind of bad input answered with its code while the daemon keeps
serving. One daemon serves the whole class (see harness.DaemonCase)."""

import json
import time
import unittest

import zmq

from tests.integration import harness

STANCE_LABELS = {"conciliatory", "distrustful", "escalatory", "neutral"}
DOC = ("Troops massed at the border on Tuesday. The two governments agreed to resume talks. "
       "The summit will be held in Geneva.")


class Classify(harness.DaemonCase):
    bundles = (("stance", harness.MINI_STANCE), ("sentiment", harness.MINI_SENTIMENT))

    def test_single_text_split(self):
        r = self.request({"id": 7, "text": DOC})
        self.assertEqual(r["id"], 7)
        self.assertEqual(len(r["results"]), 1)
        res = r["results"][0]
        self.assertEqual(set(res["label"]), {"stance", "sentiment"})
        self.assertIn(res["label"]["stance"], STANCE_LABELS)
        self.assertEqual(set(res["scores"]["stance"]), STANCE_LABELS)
        self.assertScoresSumToOne(res["scores"])
        self.assertEqual(len(res["sentences"]), 3)
        self.assertEqual(sum(res["counts"]["stance"].values()), 3)
        for s in res["sentences"]:
            self.assertScoresSumToOne(s["scores"])
            self.assertEqual(DOC.encode()[s["start"]:s["end"]].decode(), s["text"])
            self.assertEqual(DOC[s["char_start"]:s["char_end"]], s["text"])
            self.assertIn("speaker", s)
            self.assertNotIn("explain", s)
        # The summary is the mean of the sentence scores.
        for label in STANCE_LABELS:
            mean = sum(s["scores"]["stance"][label] for s in res["sentences"]) / 3
            self.assertAlmostEqual(res["scores"]["stance"][label], mean, places=5)  # scores travel with six decimals

    def test_unsplit_with_explain(self):
        r = self.request({"id": "a", "text": "They will send more tanks and troops to the border.",
                          "split": False, "explain": 3, "models": ["stance"]})
        res = r["results"][0]
        self.assertEqual(r["id"], "a")
        self.assertEqual(list(res["label"]), ["stance"])
        self.assertEqual(res["label"]["stance"], "escalatory")
        self.assertScoresSumToOne(res["scores"])
        self.assertNotIn("sentences", res)
        self.assertNotIn("counts", res)
        ex = res["explain"]["stance"]
        self.assertLessEqual(len(ex["for"]), 3)
        self.assertLessEqual(len(ex["against"]), 3)
        for feature, weight in ex["for"]:
            self.assertIsInstance(feature, str)
            self.assertIsInstance(weight, float)

    def test_explain_per_sentence(self):
        r = self.request({"text": DOC, "explain": 2, "models": ["stance"]})
        for s in r["results"][0]["sentences"]:
            self.assertIn("for", s["explain"]["stance"])

    def test_batch_in_order(self):
        texts = ["The army shelled villages near the frontier.",
                 "The talks are scheduled to open on Tuesday in Geneva.",
                 "Both sides signed a ceasefire that takes effect at midnight."]
        r = self.request({"id": 1, "texts": texts, "split": False, "models": ["stance"]})
        self.assertEqual(len(r["results"]), 3)
        for res in r["results"]:
            self.assertScoresSumToOne(res["scores"])
        self.assertEqual(r["results"][0]["label"]["stance"], "escalatory")

    def test_models_order_follows_request(self):
        r = self.request({"text": "Talks resume.", "models": ["sentiment", "stance"]})
        self.assertEqual(list(r["results"][0]["scores"]), ["sentiment", "stance"])

    def test_id_types_echoed(self):
        for ident in ["x", 12, 1.5, True, None, ""]:
            r = self.request({"id": ident, "op": "ping"})
            self.assertEqual(r["id"], ident)

    def test_dealer_with_and_without_delimiter(self):
        for delimiter in (False, True):
            with self.daemon.client(zmq.DEALER, delimiter) as c:
                for i in range(5):
                    c.send({"id": i, "text": "Talks resume.", "split": False})
                got = sorted(c.recv()["id"] for _ in range(5))
                self.assertEqual(got, list(range(5)))

    def test_ops(self):
        self.assertEqual(self.request({"op": "ping"}), {"id": None, "ok": True, "version": 1})
        m = self.request({"op": "models", "id": 3})
        self.assertEqual(m["id"], 3)
        self.assertEqual([x["name"] for x in m["models"]], ["stance", "sentiment"])
        self.assertEqual(set(m["models"][0]["labels"]), STANCE_LABELS)
        self.request({"text": "Talks resume."})
        s = self.request({"op": "stats"})["stats"]
        for key in ("uptime_s", "requests", "errors", "texts", "latency_ms"):
            self.assertIn(key, s)
        self.assertGreaterEqual(s["requests"], 1)
        self.assertGreaterEqual(s["texts"], 1)
        for p in ("p50", "p90", "p99", "max"):
            self.assertGreaterEqual(s["latency_ms"][p], 0)
        self.assertIn("busy", s["errors"])


class BadInput(harness.DaemonCase):
    """Each case: the reply code, and the daemon still answers ping."""

    def check(self, body, code, ident=None):
        with self.daemon.client() as c:
            r = c.request(body)
        self.assertError(r, code)
        self.assertEqual(r.get("id"), ident)
        self.assertServing()
        return r

    def test_malformed_json(self):
        self.check(b'{"text": "unterminated', "bad_json")
        self.check(b"", "bad_json")
        self.check(b'{"text": "a"} trailing', "bad_json")
        self.check(b"\x00", "bad_json")

    def test_not_an_object(self):
        for body in (b"[1,2]", b'"text"', b"42", b"null"):
            self.check(body, "bad_request")

    def test_wrong_types(self):
        self.check({"id": 1, "text": 5}, "bad_request", 1)
        self.check({"id": 2, "texts": "not a list"}, "bad_request", 2)
        self.check({"id": 3, "texts": ["ok", 5]}, "bad_request", 3)
        self.check({"id": 4, "text": "a", "models": "stance"}, "bad_request", 4)
        self.check({"id": 5, "text": "a", "models": [1]}, "bad_request", 5)
        self.check({"id": 6, "text": "a", "split": "yes"}, "bad_request", 6)
        self.check({"id": 7, "text": "a", "explain": -1}, "bad_request", 7)
        self.check({"id": 8, "text": "a", "explain": 1.5}, "bad_request", 8)
        self.check({"id": 9, "op": 3}, "bad_request", 9)
        self.check({"id": [1], "op": "ping"}, "bad_request")
        self.check({"id": 10, "text": "a", "colour": "red"}, "bad_request", 10)
        self.check(b'{"id": 11, "text": "a", "text": "b"}', "bad_request", 11)

    def test_missing_fields(self):
        self.check({"id": 1}, "bad_request", 1)
        self.check({"id": 2, "text": "a", "texts": ["b"]}, "bad_request", 2)
        self.check({"id": 3, "texts": []}, "bad_request", 3)

    def test_invalid_utf8(self):
        self.check(b'{"id": 1, "text": "caf\xc3"}', "bad_utf8", 1)
        self.check(b'{"id": 2, "texts": ["fine", "\xff\xfe"]}', "bad_utf8", 2)
        self.check(b'{"id": 3, "text": "a\\u0000b"}', "bad_utf8")
        self.check(b'{"id": "\xff", "op": "ping"}', "bad_utf8")

    def test_empty_text(self):
        self.check({"id": 1, "text": ""}, "empty_text", 1)
        self.check({"id": 2, "text": "  \n\t "}, "empty_text", 2)
        self.check({"id": 3, "texts": ["Talks resume.", ""]}, "empty_text", 3)

    def test_ten_megabyte_text(self):
        text = "The army shelled the villages. " * (10 * 1024 * 1024 // 31)
        self.check({"id": 1, "text": text}, "too_large", 1)

    def test_hundred_thousand_texts(self):
        self.check({"id": 1, "texts": ["Talks resume."] * 100000}, "too_many_texts", 1)

    def test_too_deep(self):
        body = b'{"id": 1, "text": "a", "x": ' + b"[" * 100 + b"]" * 100 + b"}"
        self.check(body, "bad_json")

    def test_unknown_model(self):
        r = self.check({"id": 1, "text": "Talks resume.", "models": ["nope"]}, "unknown_model", 1)
        self.assertIn("nope", r["error"]["message"])
        # a long name is cut between characters, and the loaded models still follow
        name = "a" + "é" * 40
        r = self.check({"id": 1, "text": "Talks resume.", "models": [name]}, "unknown_model", 1)
        self.assertIn('"a%s"; loaded: stance' % ("é" * 31), r["error"]["message"])

    def test_unknown_op(self):
        self.check({"id": 1, "op": "dance"}, "unknown_op", 1)

    def test_multi_frame(self):
        with self.daemon.client() as c:
            c.send_frames([b'{"op": "ping"}', b'{"op": "ping"}'])
            self.assertError(c.recv(), "bad_request")
        with self.daemon.client(zmq.DEALER) as c:
            c.send_frames([b'{"op": "ping"}', b"x", b"y"])
            self.assertError(c.recv(), "bad_request")
        self.assertServing()

    def test_client_disconnects_before_reply(self):
        big = {"texts": ["Troops massed at the border. Talks resume on Monday."] * 500}
        for _ in range(10):
            c = self.daemon.client(zmq.DEALER)
            c.send(big)
            c.close()
        self.assertServing()

    def test_errors_are_counted(self):
        before = self.request({"op": "stats"})["stats"]["errors"]["unknown_op"]
        self.request({"op": "nothing"})
        after = self.request({"op": "stats"})["stats"]["errors"]["unknown_op"]
        self.assertEqual(after, before + 1)


class SmallLimits(harness.DaemonCase):
    limits = {"max_texts": 3, "max_text_bytes": 100, "max_json_depth": 3, "max_sentences": 4,
              "max_message_bytes": 4096}

    def test_limits(self):
        self.assertError(self.request({"texts": ["a."] * 4}), "too_many_texts")
        self.assertError(self.request({"text": "x" * 101}), "too_large")
        self.assertError(self.request({"text": "a", "x": [[[1]]]}), "bad_json")
        self.assertError(self.request({"texts": ["One. Two. Three.", "Four. Five."]}), "too_large")
        self.assertIn("results", self.request({"texts": ["One. Two.", "Three. Four."]}))

    def test_frame_over_max_message_bytes_disconnects(self):
        # ZeroMQ drops a peer that sends a frame over ZMQ_MAXMSGSIZE; no
        # reply is possible, but the daemon must not notice otherwise.
        with self.daemon.client(zmq.DEALER) as c:
            c.send({"text": "x" * 5000})
            with self.assertRaises(TimeoutError):
                c.recv(timeout=1)
        self.assertServing()


if __name__ == "__main__":
    unittest.main()
