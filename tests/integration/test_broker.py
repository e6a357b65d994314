"""stanced --broker with daemons behind it, on loopback: every request of
16 concurrent clients is answered and every daemon serves a share; a
daemon killed mid-run (SIGKILL) costs no request, the rest carry on, and
restarted it rejoins and serves again; the `stance` client's retries ride
out a broker with no daemon yet; CURVE on both sides of a broker. Every
loop is bounded in count and time."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import zmq

from tests.integration import harness

CLIENTS = 16
PER_CLIENT = 25
TRY_TIMEOUT = 4.0      # seconds a client waits before it retries (lazy pirate)
RETRIES = 3
RUN_TIMEOUT = 120.0    # seconds for one whole load run
HEARTBEAT_MS = 300
LIVENESS = 3
TEXTS = ["Troops massed at the border. Talks resume on Monday.",
         "The two governments agreed to resume talks on the disputed river border.",
         "They will send more tanks to the frontier."]


def lazy_pirate(endpoint, n, prefix, answered, errors, deadline, retried, curve=None):
    """One client thread: n classify requests one at a time over REQ; on a
    timeout the socket is closed, reopened and the request sent again, at
    most RETRIES times. Each answered request id lands in answered."""
    try:
        for i in range(n):
            rid = "%s-%d" % (prefix, i)
            for attempt in range(RETRIES + 1):
                if time.monotonic() > deadline:
                    raise TimeoutError("run deadline passed")
                with harness.Client(endpoint, curve=curve) as c:
                    try:
                        r = c.request({"id": rid, "texts": TEXTS[:1 + i % 3]}, timeout=TRY_TIMEOUT)
                    except TimeoutError:
                        retried.append(rid)
                        continue
                if r.get("id") != rid or "results" not in r:
                    raise AssertionError("wrong reply to %s: %r" % (rid, r))
                answered.append(rid)
                break
            else:
                raise AssertionError("%s unanswered after %d tries" % (rid, RETRIES + 1))
    except Exception as e:  # reported by the test, not lost in the thread
        errors.append("%s: %r" % (prefix, e))


class Broker(unittest.TestCase):
    names = ("d0", "d1", "d2")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stanced-broker-")
        cls.daemons = {}
        try:
            cls.bundle = harness.train_bundle("stance", harness.MINI_STANCE)
            cls.broker = harness.Broker(cls.tmp, heartbeat_ms=HEARTBEAT_MS, liveness=LIVENESS)
            cls.broker.start()
            for name in cls.names:
                cls.daemons[name] = cls.start_daemon(name)
            cls.wait_joined(set(cls.names))
        except Exception:
            cls.stop_all()
            raise

    @classmethod
    def start_daemon(cls, name):
        d = harness.Daemon(cls.tmp, [("stance", cls.bundle)], workers=1, name=name,
                           extra=harness.upstream_yaml(cls.broker.backend, name, HEARTBEAT_MS, LIVENESS))
        d.start()
        return d

    @classmethod
    def wait_joined(cls, names, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if names <= set(cls.broker.daemons()):
                return
            time.sleep(0.1)
        raise AssertionError("daemons %s did not join: %s\n%s" % (names, cls.broker.daemons(), cls.broker.log()))

    @classmethod
    def stop_all(cls):
        for d in cls.daemons.values():
            d.kill()
        if getattr(cls, "broker", None):
            cls.broker.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            for name, d in cls.daemons.items():
                if d.alive():
                    rc = d.stop()
                    if rc != 0:
                        raise AssertionError("daemon %s exited %s\n%s" % (name, rc, d.log()))
            rc = cls.broker.stop()
            if rc != 0:
                raise AssertionError("broker exited %s\n%s" % (rc, cls.broker.log()))
        finally:
            cls.stop_all()

    def load(self, during=None):
        """Runs CLIENTS lazy-pirate clients (and `during` once they are
        under way); asserts every request was answered exactly once."""
        answered, errors, retried = [], [], []
        deadline = time.monotonic() + RUN_TIMEOUT
        threads = [threading.Thread(target=lazy_pirate,
                                    args=(self.broker.endpoint, PER_CLIENT, "c%d" % i, answered,
                                          errors, deadline, retried))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        if during:
            during(answered)
        for t in threads:
            t.join(RUN_TIMEOUT + 10)
        self.assertFalse(any(t.is_alive() for t in threads), "clients still running")
        self.assertEqual(errors, [], self.broker.log())
        self.assertEqual(len(answered), CLIENTS * PER_CLIENT)
        self.assertEqual(len(set(answered)), CLIENTS * PER_CLIENT)
        return retried

    def answered_by(self):
        return {name: d["answered"] for name, d in self.broker.daemons().items()}

    def test_1_every_request_answered_and_shared(self):
        before = self.answered_by()
        self.load()
        after = self.answered_by()
        for name in self.names:
            self.assertGreater(after[name] - before.get(name, 0), 0, after)
        self.assertEqual(sum(after.values()) - sum(before.values()), CLIENTS * PER_CLIENT)

    def test_2_killed_daemon_costs_no_request_and_rejoins(self):
        victim = self.daemons["d1"]

        def kill_midway(answered):
            deadline = time.monotonic() + 30
            while len(answered) < CLIENTS * PER_CLIENT // 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(10)

        self.load(during=kill_midway)
        self.assertFalse(victim.alive())
        self.assertIn('daemon "d1" dropped', self.broker.log())
        self.assertNotIn("d1", self.broker.daemons())
        # The others carry on.
        with harness.Client(self.broker.endpoint) as c:
            self.assertIn("results", c.request({"text": TEXTS[0]}, timeout=10))
        # Restarted, it rejoins and serves again.
        victim.kill()
        self.daemons["d1"] = self.start_daemon("d1")
        self.wait_joined({"d1"})
        self.load()
        self.assertGreater(self.answered_by()["d1"], 0)

    def test_3_stats_and_reload_are_the_brokers(self):
        r = self.broker.request({"id": 5, "op": "stats"})
        self.assertEqual(r["id"], 5)
        self.assertIn("daemons", r["stats"]["broker"])
        r = self.broker.request({"id": 6, "op": "reload"})
        self.assertEqual(r["error"]["code"], "bad_request", r)
        # ping and models are answered by a daemon.
        self.assertIs(self.broker.request({"op": "ping"})["ok"], True)
        self.assertEqual(self.broker.request({"op": "models"})["models"][0]["name"], "stance")


class Retry(unittest.TestCase):
    """The `stance` client's lazy-pirate retries: a request sent before any
    daemon has joined is answered once one does."""

    def test_cli_retries_until_a_daemon_joins(self):
        tmp = tempfile.mkdtemp(prefix="stanced-retry-")
        broker = harness.Broker(tmp, heartbeat_ms=HEARTBEAT_MS, liveness=LIVENESS)
        daemon = None
        try:
            broker.start()
            p = subprocess.Popen([harness.program("stance"), "--endpoint", broker.endpoint,
                                  "--timeout", "700", "--retries", "20", "--json", TEXTS[2]],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)
            daemon = harness.Daemon(tmp, [("stance", harness.train_bundle("stance", harness.MINI_STANCE))],
                                    workers=1, name="late",
                                    extra=harness.upstream_yaml(broker.backend, "late", HEARTBEAT_MS, LIVENESS))
            daemon.start()
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn("label", out)
            # And with no daemon, bounded retries end in exit 2.
            daemon.stop()
            start = time.monotonic()
            q = subprocess.run([harness.program("stance"), "--endpoint", broker.endpoint,
                                "--timeout", "300", "--retries", "2", TEXTS[0]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(q.returncode, 2, q.stderr)
            self.assertIn("3 tries", q.stderr)
            self.assertLess(time.monotonic() - start, 10)
        finally:
            if daemon:
                daemon.kill()
            broker.kill()
            shutil.rmtree(tmp, ignore_errors=True)


class SecureBroker(unittest.TestCase):
    """CURVE on both sides: the broker admits clients with listed keys and,
    on its back end, only keys with the daemon role."""

    def test_curve_on_both_sides(self):
        tmp = tempfile.mkdtemp(prefix="stanced-sbroker-")
        daemons = []
        broker = None
        try:
            bkey, bpub_file, bpub = harness.keygen(tmp, "broker")
            dkey, _, dpub = harness.keygen(tmp, "daemon")
            rkey, _, rpub = harness.keygen(tmp, "rogue")
            ckey, _, cpub = harness.keygen(tmp, "client")
            csec = harness.read_key(ckey)
            ak = harness.write_authorized_keys(os.path.join(tmp, "authorized_keys"),
                                               [(dpub, "dA daemon"), (rpub, "rogue"), (cpub, "client admin")])
            broker = harness.Broker(tmp, heartbeat_ms=HEARTBEAT_MS, liveness=LIVENESS,
                                    extra=harness.security_yaml(bkey, ak), curve=(bpub, cpub, csec))
            broker.start()
            bundle = harness.train_bundle("stance", harness.MINI_STANCE)
            for name, key in (("dA", dkey), ("rogue", rkey)):
                # The daemon's own endpoint admits the same keys.
                extra = (harness.security_yaml(key, ak) +
                         harness.upstream_yaml(broker.backend, name, HEARTBEAT_MS, LIVENESS, bpub_file))
                d = harness.Daemon(tmp, [("stance", bundle)], workers=1, name=name, extra=extra,
                                   curve=(harness.read_key(key[:-4] + ".pub"), cpub, csec))
                d.start()
                daemons.append(d)
            deadline = time.monotonic() + 20
            while "dA" not in broker.daemons() and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(set(broker.daemons()), {"dA"}, broker.log())
            with broker.client() as c:
                for i in range(10):
                    self.assertEqual(c.request({"id": i, "text": TEXTS[0]}, timeout=10)["id"], i)
            self.assertEqual(broker.daemons()["dA"]["answered"], 10)
            self.assertIn("without the daemon role", broker.log())
            eve_pub, eve_sec = zmq.curve_keypair()
            with harness.Client(broker.endpoint, curve=(bpub, eve_pub, eve_sec)) as c:
                with self.assertRaises(TimeoutError):
                    c.request({"op": "ping"}, timeout=1.0)
            with harness.Client(broker.endpoint) as c:
                with self.assertRaises(TimeoutError):
                    c.request({"op": "ping"}, timeout=1.0)
        finally:
            for d in daemons:
                d.kill()
            if broker:
                broker.kill()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
