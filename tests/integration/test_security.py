"""stanced with CURVE: authorized keys are served; unknown keys, a wrong
server key and plaintext clients are refused while the authorized keep
being served; only admin keys may use stats and reload; key files are
checked; without security only loopback may be bound. Every wait is
bounded; every address is loopback."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import zmq

from tests.integration import harness

REFUSED_WAIT = 1.0      # seconds a refused client waits before we call it refused
TEXT = "Troops massed at the border."


class Secure(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stanced-sec-")
        try:
            cls.server_key, cls.server_pub_file, cls.server_pub = harness.keygen(cls.tmp, "server")
            cls.alice_key, _, cls.alice_pub = harness.keygen(cls.tmp, "alice")
            cls.bob_key, _, cls.bob_pub = harness.keygen(cls.tmp, "bob")
            cls.alice_sec = cls.secret_of(cls.alice_key)
            cls.bob_sec = cls.secret_of(cls.bob_key)
            cls.keys = harness.write_authorized_keys(
                os.path.join(cls.tmp, "authorized_keys"),
                [(cls.alice_pub, "alice admin"), (cls.bob_pub, "bob")])
            models = [("stance", harness.train_bundle("stance", harness.MINI_STANCE))]
            cls.daemon = harness.Daemon(cls.tmp, models, workers=2,
                                        extra=harness.security_yaml(cls.server_key, cls.keys),
                                        curve=(cls.server_pub, cls.alice_pub, cls.alice_sec))
            cls.daemon.start()
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.daemon.stop()
            if rc != 0:
                raise AssertionError("stanced exited %s on SIGTERM\n%s" % (rc, cls.daemon.log()))
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

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
