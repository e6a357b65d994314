"""stanced with CURVE: authorized keys are served; unknown keys, a wrong
server key and plaintext clients are refused while the authorized keep
being served; only admin keys may use stats and reload; key files are
checked; a reload re-reads the authorized keys, all or nothing; without
security only loopback may be bound. Every wait is bounded; every address
is loopback."""

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

import zmq

from tests.integration import harness

REFUSED_WAIT = 1.0      # seconds a refused client waits before we call it refused
TEXT = "Troops massed at the border."


class Secure(harness.DaemonCase):

    @classmethod
    def daemon_options(cls):
        cls.server_key, cls.server_pub_file, cls.server_pub = harness.keygen(cls.tmp, "server")
        cls.alice_key, _, cls.alice_pub = harness.keygen(cls.tmp, "alice")
        cls.bob_key, _, cls.bob_pub = harness.keygen(cls.tmp, "bob")
        cls.alice_sec = cls.secret_of(cls.alice_key)
        cls.bob_sec = cls.secret_of(cls.bob_key)
        cls.keys = harness.write_authorized_keys(
            os.path.join(cls.tmp, "authorized_keys"),
            [(cls.alice_pub, "alice admin"), (cls.bob_pub, "bob")])
        return {"extra": harness.security_yaml(cls.server_key, cls.keys),
                "curve": (cls.server_pub, cls.alice_pub, cls.alice_sec)}

    @staticmethod
    def secret_of(path):
        return harness.read_key(path)

    def as_bob(self):
        return harness.Client(self.daemon.endpoint, curve=(self.server_pub, self.bob_pub, self.bob_sec))

    def as_alice(self):
        return harness.Client(self.daemon.endpoint, curve=(self.server_pub, self.alice_pub, self.alice_sec))

    def assertStillServing(self):
        with self.as_bob() as c:
            r = c.request({"id": "still", "text": TEXT}, timeout=10)
        self.assertEqual(r["id"], "still")
        self.assertIn("results", r, r)

    def assertRefused(self, client):
        with client as c:
            with self.assertRaises(TimeoutError):
                c.request({"op": "ping"}, timeout=REFUSED_WAIT)

    def stance(self, *args):
        return subprocess.run([harness.program("stance"), "--endpoint", self.daemon.endpoint] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

    # ---- who is served ----

    def test_authorized_client_is_served(self):
        with self.as_bob() as c:
            r = c.request({"id": 1, "text": TEXT})
        self.assertEqual(r["id"], 1)
        self.assertEqual(len(r["results"]), 1)

    def test_cli_with_keys_is_served(self):
        p = self.stance("--server-key", self.server_pub_file, "--key", self.bob_key, "--json", TEXT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("label", p.stdout)
        # The server key may also be given as Z85 itself.
        p = self.stance("--server-key", self.server_pub.decode(), "--key", self.bob_key, "ping")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_unknown_key_is_refused_and_logged(self):
        eve_pub, eve_sec = zmq.curve_keypair()
        self.assertRefused(harness.Client(self.daemon.endpoint, curve=(self.server_pub, eve_pub, eve_sec)))
        self.assertStillServing()
        self.assertIn(eve_pub.decode(), self.daemon.log())
        self.assertIn("refused CURVE key", self.daemon.log())

    def test_wrong_server_key_is_refused(self):
        self.assertRefused(harness.Client(self.daemon.endpoint, curve=(self.bob_pub, self.alice_pub, self.alice_sec)))
        self.assertStillServing()

    def test_plaintext_client_is_refused(self):
        self.assertRefused(harness.Client(self.daemon.endpoint))
        p = self.stance("--timeout", "300", "--retries", "1", "ping")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("2 tries", p.stderr)
        self.assertStillServing()

    def test_refused_clients_do_not_disturb_a_stream_of_requests(self):
        eve_pub, eve_sec = zmq.curve_keypair()
        bad = [harness.Client(self.daemon.endpoint, curve=(self.server_pub, eve_pub, eve_sec)),
               harness.Client(self.daemon.endpoint)]
        try:
            for b in bad:
                b.send({"op": "ping"})
            with self.as_bob() as c:
                for i in range(20):
                    self.assertEqual(c.request({"id": i, "text": TEXT}, timeout=10)["id"], i)
            for b in bad:
                with self.assertRaises(TimeoutError):
                    b.recv(timeout=0.2)
        finally:
            for b in bad:
                b.close()

    # ---- admin ops ----

    def test_non_admin_key_cannot_reload_or_read_stats(self):
        with self.as_bob() as c:
            for op in ("reload", "stats"):
                r = c.request({"id": op, "op": op})
                self.assertEqual(r["id"], op)
                self.assertEqual(r["error"]["code"], "forbidden", r)
            self.assertIs(c.request({"op": "ping"})["ok"], True)
            self.assertIn("models", c.request({"op": "models"}))
        self.assertIn("refused reload from bob", self.daemon.log())
        p = self.stance("--server-key", self.server_pub_file, "--key", self.bob_key, "reload")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("forbidden", p.stderr)

    def test_admin_key_can_reload_and_read_stats(self):
        with self.as_alice() as c:
            self.assertIs(c.request({"op": "reload"}, timeout=60)["ok"], True)
            self.assertIn("requests", c.request({"op": "stats"})["stats"])

    # ---- key files ----

    def test_client_refuses_a_secret_key_others_can_read(self):
        path = os.path.join(self.tmp, "open.key")
        shutil.copy(self.bob_key, path)
        os.chmod(path, 0o644)
        p = self.stance("--server-key", self.server_pub_file, "--key", path, "ping")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(path, p.stderr)
        self.assertIn("chmod 600", p.stderr)

    def test_client_refuses_bad_z85(self):
        path = os.path.join(self.tmp, "bad.pub")
        with open(path, "w") as f:
            f.write("# not a key\nthis-is-not-z85\n")
        p = self.stance("--server-key", path, "--key", self.bob_key, "ping")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(path + ":2:", p.stderr)
        self.assertIn("Z85", p.stderr)
        p = self.stance("--server-key", self.server_pub_file, "ping")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("--key", p.stderr)

    def test_keygen_file_modes_and_no_overwrite(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        key, pub, z = harness.keygen(d, "k")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(pub).st_mode), 0o644)
        self.assertEqual(len(z), 40)
        p = subprocess.run([harness.program("stance"), "keygen", "--out", os.path.join(d, "k")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("overwrite", p.stderr)
        self.assertEqual(harness.read_key(pub), z)


class KeyReload(harness.DaemonCase):
    """A reload (the op or SIGHUP) re-reads the authorized-keys file: an
    added key is served, a removed key is refused on its next connection,
    a broken file changes nothing and the reload says why. Each test starts
    from the same file, so they do not depend on each other's order."""

    RELOAD_WAIT = 20.0  # seconds for a SIGHUP reload to show in the log
    BASE = (("alice", "alice admin"), ("bob", "bob"))

    @classmethod
    def daemon_options(cls):
        cls.server_key, _, cls.server_pub = harness.keygen(cls.tmp, "server")
        cls.pairs = {}
        for name in ("alice", "bob", "carol"):
            key, _, pub = harness.keygen(cls.tmp, name)
            cls.pairs[name] = (pub, harness.read_key(key))
        cls.keys = os.path.join(cls.tmp, "authorized_keys")
        cls.write_keys(cls.BASE)
        return {"extra": harness.security_yaml(cls.server_key, cls.keys), "curve": cls.curve("alice")}

    @classmethod
    def write_keys(cls, entries):
        harness.write_authorized_keys(cls.keys, [(cls.pairs[n][0], rest) for n, rest in entries])

    @classmethod
    def curve(cls, name):
        return (cls.server_pub,) + cls.pairs[name]

    def setUp(self):
        self.write_keys(self.BASE)
        self.assertIs(self.reload().get("ok"), True)

    def client(self, name):
        return harness.Client(self.daemon.endpoint, curve=self.curve(name))

    def reload(self):
        with self.client("alice") as c:
            return c.request({"id": "reload", "op": "reload"}, timeout=60)

    def sighup(self):
        """Sends SIGHUP and waits (bounded) for its reload to be logged."""
        done = ("on SIGHUP", "reload failed")
        before = sum(self.daemon.log().count(d) for d in done)
        self.daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + self.RELOAD_WAIT
        while sum(self.daemon.log().count(d) for d in done) == before:
            self.assertLess(time.monotonic(), deadline, "SIGHUP not handled:\n" + self.daemon.log())
            time.sleep(0.05)

    def assertServed(self, name):
        with self.client(name) as c:
            r = c.request({"id": name, "text": TEXT}, timeout=10)
        self.assertEqual(r["id"], name)
        self.assertIn("results", r, r)

    def assertRefused(self, name):
        with self.client(name) as c:
            with self.assertRaises(TimeoutError):
                c.request({"op": "ping"}, timeout=REFUSED_WAIT)

    def test_added_key_is_served_after_reload(self):
        self.assertRefused("carol")
        self.write_keys(self.BASE + (("carol", "carol"),))
        r = self.reload()
        self.assertIs(r.get("ok"), True, r)
        self.assertEqual(r["authorized_keys"], 3, r)
        self.assertServed("carol")
        self.assertServed("bob")
        self.assertIn("3 authorized keys (1 admin, 0 daemon) from " + self.keys, self.daemon.log())

    def test_removed_key_is_refused_on_its_next_connection(self):
        with self.client("bob") as established:
            self.assertEqual(established.request({"id": 1, "text": TEXT}, timeout=10)["id"], 1)
            self.write_keys((("alice", "alice admin"),))
            r = self.reload()
            self.assertEqual(r["authorized_keys"], 1, r)
            self.assertRefused("bob")
            # A session admitted before the reload is not torn down.
            self.assertEqual(established.request({"id": 2, "text": TEXT}, timeout=10)["id"], 2)
        self.assertIn("refused CURVE key " + self.pairs["bob"][0].decode(), self.daemon.log())
        self.assertServed("alice")

    def test_broken_keys_file_keeps_the_old_keys(self):
        generation = self.reload()["generation"]
        with open(self.keys, "a") as f:
            f.write("%s carol\nnot-a-key dave\n" % self.pairs["carol"][0].decode())
        r = self.reload()
        self.assertEqual(r["id"], "reload")
        self.assertEqual(r["error"]["code"], "reload_failed", r)
        self.assertIn(self.keys + ":5:", r["error"]["message"])
        self.assertIn("Z85", r["error"]["message"])
        self.assertIn("old models and keys stay in force", self.daemon.log())
        # Nothing of the broken file is taken, not even its good lines,
        # and the models were not swapped either.
        self.assertRefused("carol")
        self.assertServed("bob")
        with self.client("alice") as c:
            self.assertEqual(c.request({"op": "models"}, timeout=10)["generation"], generation)

    def test_sighup_reloads_the_keys(self):
        self.write_keys((("alice", "alice admin"), ("carol", "carol")))
        self.sighup()
        self.assertServed("carol")
        self.assertRefused("bob")
        with open(self.keys, "a") as f:
            f.write("%s bob admin root\n" % self.pairs["bob"][0].decode())
        self.sighup()
        self.assertIn("\"root\" is not a role", self.daemon.log())
        self.assertRefused("bob")
        self.assertServed("carol")
        self.assertTrue(self.daemon.alive(), self.daemon.log())


class BrokerKeyReload(unittest.TestCase):
    """A broker has no models, but SIGHUP re-reads its authorized keys."""

    def test_sighup_reloads_the_brokers_keys(self):
        tmp = tempfile.mkdtemp(prefix="stanced-bkeyreload-")
        broker = None
        try:
            bkey, _, bpub = harness.keygen(tmp, "broker")
            akey, _, apub = harness.keygen(tmp, "alice")
            ckey, _, cpub = harness.keygen(tmp, "carol")
            alice = (bpub, apub, harness.read_key(akey))
            carol = (bpub, cpub, harness.read_key(ckey))
            ak = harness.write_authorized_keys(os.path.join(tmp, "authorized_keys"), [(apub, "alice admin")])
            broker = harness.Broker(tmp, extra=harness.security_yaml(bkey, ak), curve=alice)
            broker.start()
            with harness.Client(broker.endpoint, curve=carol) as c:
                with self.assertRaises(TimeoutError):
                    c.request({"op": "stats"}, timeout=REFUSED_WAIT)
            harness.write_authorized_keys(ak, [(apub, "alice admin"), (cpub, "carol")])
            broker.signal(signal.SIGHUP)
            deadline = time.monotonic() + KeyReload.RELOAD_WAIT
            while "SIGHUP: reloaded" not in broker.log():
                self.assertLess(time.monotonic(), deadline, broker.log())
                time.sleep(0.05)
            # Admitted now: carol gets an answer, if only `forbidden`.
            with harness.Client(broker.endpoint, curve=carol) as c:
                self.assertEqual(c.request({"op": "stats"}, timeout=10)["error"]["code"], "forbidden")
            self.assertIn("stats", broker.request({"op": "stats"}, timeout=10))
        finally:
            if broker:
                self.assertEqual(broker.stop(), 0, broker.log())
            shutil.rmtree(tmp, ignore_errors=True)


class SecurityConfig(unittest.TestCase):
    """Start-up refusals: each names the file (and line) and exits 3."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stanced-secconf-")
        self.bundle = harness.train_bundle("stance", harness.MINI_STANCE)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, endpoints, extra):
        path = os.path.join(self.tmp, "c.yaml")
        return harness.write_config(path, [("stance", self.bundle)], endpoints, 1, "info", None, extra)

    def test_plaintext_non_loopback_bind_is_refused(self):
        path = self.config(["tcp://127.0.0.1:%d" % harness.free_port(),
                            "tcp://0.0.0.0:%d" % harness.free_port()], "")
        rc, out, err = harness.run_stanced(["--config", path])
        self.assertEqual(rc, 3, err)
        self.assertIn(path + ":3:", err)
        self.assertIn("allow_plaintext_network", err)

    def test_allow_plaintext_network_starts_and_says_so(self):
        d = harness.Daemon(self.tmp, [("stance", self.bundle)], workers=1,
                           extra="allow_plaintext_network: true\n")
        d.start()
        try:
            self.assertIn("allow_plaintext_network is true", d.log())
        finally:
            self.assertEqual(d.stop(), 0)
        d = harness.Daemon(self.tmp, [("stance", self.bundle)], workers=1)
        d.start()
        try:
            self.assertIn("security: none; plaintext on loopback", d.log())
        finally:
            self.assertEqual(d.stop(), 0)

    def test_daemon_refuses_an_open_secret_key(self):
        key, _, pub = harness.keygen(self.tmp, "server")
        os.chmod(key, 0o640)
        ak = harness.write_authorized_keys(os.path.join(self.tmp, "ak"), [(pub, "self")])
        rc, out, err = harness.run_stanced(["--config", self.config(["tcp://127.0.0.1:1"],
                                                                     harness.security_yaml(key, ak))])
        self.assertEqual(rc, 3, err)
        self.assertIn(key, err)
        self.assertIn("chmod 600", err)

    def test_daemon_refuses_a_bad_authorized_keys_line(self):
        key, _, pub = harness.keygen(self.tmp, "server")
        ak = os.path.join(self.tmp, "ak")
        with open(ak, "w") as f:
            f.write("# ok\n%s alice admin\nnot-a-key carol\n" % pub.decode())
        rc, out, err = harness.run_stanced(["--config", self.config(["tcp://127.0.0.1:1"],
                                                                    harness.security_yaml(key, ak))])
        self.assertEqual(rc, 3, err)
        self.assertIn(ak + ":3:", err)

    def test_security_without_its_files_is_refused(self):
        path = self.config(["tcp://127.0.0.1:1"], "security:\n  authorized_keys: ak\n")
        rc, out, err = harness.run_stanced(["--config", path])
        self.assertEqual(rc, 3, err)
        self.assertIn("secret_key", err)


if __name__ == "__main__":
    unittest.main()
