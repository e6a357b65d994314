"""Shared helpers for the integration suites: train a small bundle with the
real trainer, write a temporary config, run a real stanced on a free
loopback port, talk to it over ZeroMQ, and stop it cleanly.

Every wait here is bounded in time, and every address is loopback, so a
broken daemon makes a test fail rather than hang. Suites use it like this:

    class T(harness.DaemonCase):          # one daemon for the whole class
        def test_x(self):
            reply = self.request({"text": "Troops massed."})
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import zmq

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data")
MINI_STANCE = os.path.join(DATA, "mini_stance.tsv")
MINI_SENTIMENT = os.path.join(DATA, "mini_sentiment.tsv")

START_TIMEOUT = 30.0    # seconds for a daemon to answer its first ping (ASan is slow)
STOP_TIMEOUT = 15.0     # seconds for a daemon to exit after SIGTERM
REPLY_TIMEOUT = 20.0    # seconds for any one reply


def bin_dir():
    """The directory holding the built programs, from $BIN (set by tests/run.sh)."""
    b = os.environ.get("BIN")
    if not b:
        raise unittest.SkipTest("BIN is not set; run through `make test`")
    return os.path.abspath(b)


def program(name):
    """Absolute path of program `name` in $BIN; skips the test when it is not built yet."""
    path = os.path.join(bin_dir(), name)
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest("%s is not built" % path)
    return path


# Bundles are trained once per (data, name) per test process: training is
# the slow part and the result is read-only.
_bundle_cache = {}
_bundle_root = None


def _cleanup_bundles():
    if _bundle_root:
        shutil.rmtree(_bundle_root, ignore_errors=True)


def train_bundle(name="stance", data=MINI_STANCE, out=None, timeout=300, options=()):
    """Trains a bundle called `name` from the TSV `data` with $BIN/stance-train
    and its `options`, and returns its directory. Without `out` the result is
    cached for the process; with `out` a fresh bundle is written there."""
    global _bundle_root
    key = (os.path.abspath(data), name, tuple(options))
    cached = out is None
    if cached and key in _bundle_cache:
        return _bundle_cache[key]
    trainer = program("stance-train")
    if cached:
        if _bundle_root is None:
            import atexit
            _bundle_root = tempfile.mkdtemp(prefix="stanced-bundles-")
            atexit.register(_cleanup_bundles)
        out = os.path.join(_bundle_root, "%s-%d" % (name, len(_bundle_cache)))
    proc = subprocess.run([trainer, "train", "--data", data, "--out", out, "--name", name, *options],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError("stance-train failed (exit %d): %s"
                             % (proc.returncode, proc.stderr.decode("utf-8", "replace")))
    if cached:
        _bundle_cache[key] = out
    return out


def copy_bundle(src, dst):
    """Copies bundle directory src to dst (replacing dst) and returns dst."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


def free_port():
    """A loopback TCP port that was free a moment ago. The daemon cannot bind
    port 0 from its config, so there is a race; Daemon.start retries."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def yaml_str(s):
    """A YAML double-quoted scalar for s (JSON strings are valid YAML)."""
    return json.dumps(s)


def write_config(path, models, endpoints, workers=2, log_level="info", limits=None, extra=""):
    """Writes a stanced config to `path`. models is a list of (name, dir)
    pairs, kept in order; limits a dict of the `limits:` keys to set; extra
    is raw YAML appended at the end (e.g. to test bad configs)."""
    lines = ["endpoints:"]
    lines += ["  - %s" % yaml_str(e) for e in endpoints]
    lines.append("workers: %d" % workers)
    lines.append("log_level: %s" % log_level)
    if limits:
        lines.append("limits:")
        lines += ["  %s: %d" % (k, v) for k, v in limits.items()]
    lines.append("models:")
    lines += ["  %s: %s" % (n, yaml_str(d)) for n, d in models]
    text = "\n".join(lines) + "\n" + extra
    with open(path, "w") as f:
        f.write(text)
    return path


def keygen(directory, name):
    """Makes a key pair with `stance keygen --out directory/name`; returns
    (secret key file, public key file, public key as Z85 bytes)."""
    prefix = os.path.join(directory, name)
    p = subprocess.run([program("stance"), "keygen", "--out", prefix], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise AssertionError("stance keygen failed: %s" % p.stderr.decode("utf-8", "replace"))
    return prefix + ".key", prefix + ".pub", read_key(prefix + ".pub")


def read_key(path):
    """The Z85 key (bytes) of a key file written by stance keygen."""
    with open(path) as f:
        keys = [l.strip() for l in f if l.strip() and not l.startswith("# ")]
    if len(keys) != 1:
        raise AssertionError("%s holds %d keys" % (path, len(keys)))
    return keys[0].encode("ascii")


def write_authorized_keys(path, entries):
    """Writes an authorized-keys file; entries are lines after the key, as
    (z85 bytes, "name role..." or "")."""
    with open(path, "w") as f:
        f.write("# written by the tests\n")
        for key, rest in entries:
            f.write("%s %s\n" % (key.decode("ascii"), rest))
    return path


def security_yaml(secret_key, authorized_keys):
    """The `security:` section for a config's `extra`."""
    return "security:\n  secret_key: %s\n  authorized_keys: %s\n" % (
        yaml_str(secret_key), yaml_str(authorized_keys))


class Client:
    """A pyzmq client of one daemon. kind is zmq.REQ or zmq.DEALER. For a
    DEALER, `delimiter` chooses whether an empty frame precedes the body.
    curve, when given, is (server public, our public, our secret), each Z85
    bytes: the socket then talks CURVE."""

    def __init__(self, endpoint, kind=zmq.REQ, delimiter=False, ctx=None, curve=None):
        self.ctx = ctx or zmq.Context.instance()
        self.kind = kind
        self.delimiter = delimiter
        self.sock = self.ctx.socket(kind)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:
            self.sock.curve_serverkey, self.sock.curve_publickey, self.sock.curve_secretkey = curve
        if kind == zmq.REQ:
            # A REQ socket that lost its reply is stuck; these let it move on.
            self.sock.setsockopt(zmq.REQ_RELAXED, 1)
            self.sock.setsockopt(zmq.REQ_CORRELATE, 1)
        self.sock.connect(endpoint)

    def close(self):
        self.sock.close(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, obj, timeout=REPLY_TIMEOUT):
        """Sends obj as JSON (or bytes/str as they are) in one frame."""
        if isinstance(obj, bytes):
            body = obj
        elif isinstance(obj, str):
            body = obj.encode("utf-8")
        else:
            body = json.dumps(obj).encode("utf-8")
        self.send_frames([body], timeout)

    def send_frames(self, frames, timeout=REPLY_TIMEOUT):
        """Sends the body frames as one message (the DEALER delimiter, if
        asked for, is added in front); raises TimeoutError. A socket has
        nowhere to put a message while its only connection is between
        handshakes (a refused CURVE client reconnects forever), and a send
        without a timeout would then block for good."""
        if self.kind == zmq.DEALER and self.delimiter:
            frames = [b""] + list(frames)
        self.sock.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        try:
            self.sock.send_multipart(frames)
        except zmq.Again:
            raise TimeoutError("could not send within %.1fs" % timeout) from None

    def recv_frames(self, timeout=REPLY_TIMEOUT):
        """The body frames of the next reply; raises TimeoutError."""
        if not self.sock.poll(int(timeout * 1000)):
            raise TimeoutError("no reply within %.1fs" % timeout)
        frames = self.sock.recv_multipart()
        if self.kind == zmq.DEALER and self.delimiter:
            if not frames or frames[0] != b"":
                raise AssertionError("reply lacks the empty delimiter: %r" % frames[:1])
            frames = frames[1:]
        return frames

    def recv(self, timeout=REPLY_TIMEOUT):
        """The next reply, decoded from JSON; it must be one frame."""
        frames = self.recv_frames(timeout)
        if len(frames) != 1:
            raise AssertionError("reply has %d frames" % len(frames))
        return json.loads(frames[0].decode("utf-8"))

    def request(self, obj, timeout=REPLY_TIMEOUT):
        self.send(obj, timeout)
        return self.recv(timeout)


class Daemon:
    """A real stanced process. start() picks a free port, writes nothing
    itself (give it a config path or let it write one through `configure`),
    and waits for a ping reply."""

    def __init__(self, workdir, models=None, workers=2, log_level="info", limits=None, extra="",
                 curve=None, name="stanced"):
        self.curve = curve      # the keys our own clients use, as for Client
        self.workdir = workdir
        self.models = models or []
        self.workers = workers
        self.log_level = log_level
        self.limits = limits
        self.extra = extra
        self.proc = None
        self.port = None
        self.endpoint = None
        self.config = os.path.join(workdir, name + ".yaml")
        self.log_path = os.path.join(workdir, name + ".log")
        self.args = []          # more command-line arguments, e.g. --broker
        self._log = None

    def configure(self, **changes):
        """Changes settings and rewrites the config file (for reload tests)."""
        for k, v in changes.items():
            setattr(self, k, v)
        write_config(self.config, self.models, [self.endpoint], self.workers,
                     self.log_level, self.limits, self.extra)

    def start(self, attempts=5):
        exe = program("stanced")
        last = None
        for _ in range(attempts):
            self.port = free_port()
            self.endpoint = "tcp://127.0.0.1:%d" % self.port
            self.configure()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([exe, "--config", self.config] + self.args,
                                         stdout=subprocess.DEVNULL, stderr=self._log)
            try:
                self.wait_ready()
                return self
            except Exception as e:  # the port may have been taken meanwhile: retry
                last = e
                self.kill()
        raise AssertionError("stanced did not start: %s\n%s" % (last, self.log()))

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("stanced exited with %d" % self.proc.returncode)
            with Client(self.endpoint, curve=self.curve) as c:
                try:
                    if c.request({"op": "ping"}, timeout=0.5).get("ok") is True:
                        return
                except TimeoutError:
                    pass
        raise TimeoutError("no ping reply within %.0fs" % timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then waits; returns the exit code (kills and raises on timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("stanced did not exit within %.0fs of SIGTERM" % timeout)
        self._close_log()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        self._close_log()

    def _close_log(self):
        if self._log:
            self._log.close()
            self._log = None

    def log(self):
        """Everything the daemon wrote to stderr so far."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, kind=zmq.REQ, delimiter=False):
        return Client(self.endpoint, kind, delimiter, curve=self.curve)

    def request(self, obj, timeout=REPLY_TIMEOUT):
        with self.client() as c:
            return c.request(obj, timeout)


class Broker(Daemon):
    """A real `stanced --broker`: clients on a free loopback port (endpoint),
    daemons on another (backend). It serves ping only once a daemon has
    joined, so start() waits for its own stats op instead."""

    def __init__(self, workdir, heartbeat_ms=500, liveness=3, extra="", curve=None, max_queue=None):
        Daemon.__init__(self, workdir, extra=extra, curve=curve, name="broker",
                        limits={"max_queue": max_queue} if max_queue else None)
        self.args = ["--broker"]
        self.heartbeat_ms = heartbeat_ms
        self.liveness = liveness
        self.backend = None

    def configure(self, **changes):
        for k, v in changes.items():
            setattr(self, k, v)
        lines = ["log_level: %s" % self.log_level, "broker:",
                 "  frontend: [%s]" % yaml_str(self.endpoint),
                 "  backend: %s" % yaml_str(self.backend),
                 "  heartbeat_ms: %d" % self.heartbeat_ms,
                 "  liveness: %d" % self.liveness]
        if self.limits:
            lines.append("limits:")
            lines += ["  %s: %d" % (k, v) for k, v in self.limits.items()]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + self.extra)

    def start(self, attempts=5):
        self.backend_port = free_port()
        self.backend = "tcp://127.0.0.1:%d" % self.backend_port
        return Daemon.start(self, attempts)

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("stanced --broker exited with %d" % self.proc.returncode)
            with Client(self.endpoint, curve=self.curve) as c:
                try:
                    if "stats" in c.request({"op": "stats"}, timeout=0.5):
                        return
                except TimeoutError:
                    pass
        raise TimeoutError("no stats reply within %.0fs" % timeout)

    def daemons(self):
        """{name: its entry in the broker's stats} for the daemons joined now."""
        r = self.request({"op": "stats"}, timeout=10)
        return {d["name"]: d for d in r["stats"]["broker"]["daemons"]}


def upstream_yaml(endpoint, name, heartbeat_ms=500, liveness=3, server_key=None):
    """The `upstream:` section for a daemon's `extra`."""
    text = "upstream:\n  endpoint: %s\n  name: %s\n  heartbeat_ms: %d\n  liveness: %d\n" % (
        yaml_str(endpoint), yaml_str(name), heartbeat_ms, liveness)
    if server_key:
        text += "  server_key: %s\n" % yaml_str(server_key)
    return text


def run_stanced(args, timeout=START_TIMEOUT):
    """Runs stanced with args to completion (for --help, bad configs);
    returns (exit code, stdout, stderr) as text."""
    p = subprocess.run([program("stanced")] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class DaemonCase(unittest.TestCase):
    """One daemon for the whole TestCase class, serving a `stance` bundle
    trained from tests/data/mini_stance.tsv (and more, see `bundles`).
    Subclasses may override `bundles`, `workers`, `limits`, and
    `daemon_options` (e.g. for CURVE keys). tearDownClass asserts the
    daemon exits 0 on SIGTERM."""

    bundles = (("stance", MINI_STANCE),)
    workers = 2
    limits = None
    log_level = "info"

    @classmethod
    def daemon_options(cls):
        """More keyword arguments for Daemon (extra, curve), made once
        cls.tmp exists, so that key files can be written there."""
        return {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stanced-test-")
        try:
            models = [(name, train_bundle(name, data)) for name, data in cls.bundles]
            cls.daemon = Daemon(cls.tmp, models, cls.workers, cls.log_level, cls.limits,
                                **cls.daemon_options())
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

    def request(self, obj, timeout=REPLY_TIMEOUT):
        return self.daemon.request(obj, timeout)

    def assertError(self, reply, code):
        self.assertIn("error", reply, reply)
        self.assertEqual(reply["error"]["code"], code, reply)
        self.assertIsInstance(reply["error"].get("message"), str, reply)

    def assertServing(self):
        """The daemon is alive and answers ping."""
        self.assertTrue(self.daemon.alive(), self.daemon.log())
        self.assertEqual(self.request({"op": "ping"}, timeout=10).get("ok"), True)

    def assertScoresSumToOne(self, scores):
        """scores: {model: {label: p}}; every model's scores sum to 1."""
        for model, by_label in scores.items():
            self.assertAlmostEqual(sum(by_label.values()), 1.0, places=4, msg=model)
