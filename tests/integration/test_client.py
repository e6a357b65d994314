"""The `stance` client, driven as a user would: the real binary against a
real stanced (started by the harness with a bundle trained from
tests/data/mini_stance.tsv). Covers the inputs (arguments, -f, stdin,
--lines), JSON output, the exit codes, terminal rendering under a
pseudo-terminal with and without NO_COLOR, the admin subcommands and a
small bounded `stance bench`."""

import json
import os
import pty
import select
import signal
import subprocess
import tempfile
import time
import unittest

from tests.integration import harness

RUN_TIMEOUT = 60  # seconds for any one run of the client (ASan builds are slow)

ARTICLE = (
    "Troops and tanks massed at the border overnight, satellite images showed. "
    "The two governments agreed on Tuesday to resume talks on the disputed river border.\n\n"
    "The delegation arrived in the capital on Tuesday afternoon.\n"
)


def training_sentence(label):
    """The first sentence of tests/data/mini_stance.tsv with this label: the
    small bundle is trained on it, so it must get that label back."""
    with open(harness.MINI_STANCE, encoding="utf-8") as f:
        for line in f:
            lab, _, text = line.rstrip("\n").partition("\t")
            if lab == label:
                return text
    raise AssertionError("no %s sentence in %s" % (label, harness.MINI_STANCE))


def clean_env(**extra):
    """The environment for a client run, without the caller's endpoint or
    colour preferences leaking in."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("STANCE_ENDPOINT", "NO_COLOR", "COLUMNS")}
    env.update(extra)
    return env


def run_in_pty(argv, env, timeout=RUN_TIMEOUT, cols=100):
    """Runs argv with a pseudo-terminal as stdin, stdout and stderr; returns
    (exit code, everything it wrote). Killed if it runs past timeout."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: size the terminal, then become the client
        try:
            import fcntl
            import struct
            import termios
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("%s ran past %ds" % (argv, timeout))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


class ClientRunner:
    """Runs the client against the class's daemon."""

    def stance(self, *args, input=None, env=None, timeout=RUN_TIMEOUT, endpoint=True):
        """Runs the client (with --endpoint of the test daemon unless told
        not to) and returns the CompletedProcess with text output."""
        argv = [harness.program("stance")]
        if endpoint:
            argv += ["--endpoint", self.daemon.endpoint]
        argv += list(args)
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env or clean_env(), timeout=timeout, text=True)

    def json_lines(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [json.loads(line) for line in proc.stdout.splitlines()]


class ClientTest(ClientRunner, harness.DaemonCase):

    # ---- classification ----

    def test_text_argument_gets_its_label(self):
        for label in ("escalatory", "conciliatory"):
            with self.subTest(label=label):
                [r] = self.json_lines(self.stance("--no-split", training_sentence(label)))
                self.assertEqual(r["label"]["stance"], label, r)

    def test_json_lines_carry_index_and_scores_that_sum_to_one(self):
        texts = [training_sentence("escalatory"), training_sentence("neutral"), ARTICLE]
        results = self.json_lines(self.stance("--json", *texts))
        self.assertEqual([r["index"] for r in results], [0, 1, 2])
        for r in results:
            self.assertScoresSumToOne(r["scores"])
            self.assertIn("sentences", r)
            for s in r["sentences"]:
                self.assertScoresSumToOne(s["scores"])
        self.assertGreaterEqual(len(results[2]["sentences"]), 3, results[2])

    def test_pipe_output_is_json_without_asking(self):
        [r] = self.json_lines(self.stance(training_sentence("distrustful")))
        self.assertEqual(r["index"], 0)
        self.assertIn("stance", r["label"])

    def test_file_is_one_document(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(ARTICLE)
        try:
            [r] = self.json_lines(self.stance("-f", f.name))
        finally:
            os.unlink(f.name)
        self.assertGreaterEqual(len(r["sentences"]), 3, r)
        self.assertEqual(sum(r["counts"]["stance"].values()), len(r["sentences"]))
        first = r["sentences"][0]
        self.assertEqual(ARTICLE.encode()[first["start"]:first["end"]].decode(), first["text"])

    def test_stdin_is_one_document(self):
        [r] = self.json_lines(self.stance(input=ARTICLE))
        self.assertGreaterEqual(len(r["sentences"]), 3, r)

    def test_stdin_lines_are_texts(self):
        lines = [training_sentence("escalatory"), "", training_sentence("conciliatory"), "  "]
        results = self.json_lines(self.stance("--lines", "--no-split", input="\n".join(lines) + "\n"))
        self.assertEqual([(r["index"], r["line"]) for r in results], [(0, 1), (1, 3)])
        self.assertEqual([r["label"]["stance"] for r in results], ["escalatory", "conciliatory"])

    def test_explain_gives_reasons(self):
        [r] = self.json_lines(self.stance("--explain", "2", training_sentence("escalatory")))
        explain = r["sentences"][0]["explain"]["stance"]
        self.assertLessEqual(len(explain["for"]), 2)
        self.assertTrue(explain["for"], explain)

    # ---- exit codes ----

    def test_unreachable_daemon_exits_2_within_the_timeout(self):
        endpoint = "tcp://127.0.0.1:%d" % harness.free_port()
        start = time.monotonic()
        p = self.stance("--endpoint", endpoint, "--timeout", "200", "hello", endpoint=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn("200 ms", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_endpoint_from_environment(self):
        p = self.stance("ping", endpoint=False, env=clean_env(STANCE_ENDPOINT=self.daemon.endpoint))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIs(json.loads(p.stdout)["ok"], True)

    def test_unknown_model_exits_3(self):
        p = self.stance("--models", "stance,nosuch", "hello")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("unknown_model", p.stderr)

    def test_empty_text_exits_3(self):
        p = self.stance("")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("empty_text", p.stderr)

    def test_misuse_exits_1_with_a_message(self):
        cases = [["--bogus"], ["--timeout", "soon", "x"], ["--explain", "-1", "x"],
                 ["--models", "a,,b", "x"], ["ping", "--clients", "2"], ["bench", "extra"],
                 ["--timeout"], ["-f", "/nonexistent/file"]]
        for args in cases:
            with self.subTest(args=args):
                p = self.stance(*args)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertTrue(p.stderr.startswith("stance: "), p.stderr)
                self.assertEqual(p.stdout, "")

    def test_help_and_version_exit_0_on_stdout(self):
        p = self.stance("--help", endpoint=False)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr, "")
        for word in ("Usage:", "--endpoint", "bench", "Exit status"):
            self.assertIn(word, p.stdout)
        p = self.stance("--version", endpoint=False)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("stance "), p.stdout)

    # ---- admin subcommands ----

    def test_ping_models_stats(self):
        self.assertIs(json.loads(self.stance("ping").stdout)["ok"], True)
        models = json.loads(self.stance("models").stdout)["models"]
        self.assertEqual([m["name"] for m in models], ["stance"])
        self.assertEqual(sorted(models[0]["labels"]),
                         ["conciliatory", "distrustful", "escalatory", "neutral"])
        p = self.stance("stats", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsInstance(json.loads(p.stdout), dict)

    def test_reload_keeps_serving(self):
        p = self.stance("reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIs(json.loads(p.stdout)["ok"], True)
        [r] = self.json_lines(self.stance("--no-split", training_sentence("escalatory")))
        self.assertEqual(r["label"]["stance"], "escalatory")

    def test_a_subcommand_word_after_double_dash_is_text(self):
        [r] = self.json_lines(self.stance("--", "ping"))
        self.assertIn("stance", r["label"])

    # ---- terminal rendering ----

    def test_terminal_output_is_coloured_unless_no_color(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(ARTICLE)
        argv = [harness.program("stance"), "--endpoint", self.daemon.endpoint, "-f", f.name]
        try:
            rc, out = run_in_pty(argv, clean_env(TERM="xterm"))
            self.assertEqual(rc, 0, out)
            self.assertIn("\x1b[31m", out)  # the escalatory sentence in red
            self.assertIn("document:", out)
            self.assertIn("satellite images showed.", out)
            self.assertNotIn('"index"', out)  # readable, not JSON

            rc, out = run_in_pty(argv, clean_env(TERM="xterm", NO_COLOR="1"))
            self.assertEqual(rc, 0, out)
            self.assertNotIn("\x1b", out)
            self.assertIn("\n  1  Troops and tanks", "\n" + out)
            self.assertIn("  3  The delegation", out)
            self.assertIn("document:", out)
            self.assertIn("sentences:", out)

            rc, out = run_in_pty(argv + ["--no-color"], clean_env(TERM="xterm"))
            self.assertNotIn("\x1b", out)
            rc, out = run_in_pty(argv + ["--json"], clean_env(TERM="xterm"))
            self.assertEqual(json.loads(out.strip())["index"], 0)
        finally:
            os.unlink(f.name)

    def test_terminal_short_text_is_one_verdict_with_its_scores(self):
        argv = [harness.program("stance"), "--endpoint", self.daemon.endpoint,
                "--explain", "1", training_sentence("escalatory")]
        rc, out = run_in_pty(argv, clean_env(TERM="xterm", NO_COLOR="1"), cols=200)
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("escalatory "), out)
        for label in ("conciliatory", "distrustful", "neutral"):
            self.assertIn(label, lines[0])
        self.assertTrue(any(line.strip().startswith("why:") for line in lines), out)

    # ---- bench ----

    def test_bench_bounded_run_has_no_errors(self):
        p = self.stance("bench", "--clients", "2", "--requests", "60", "--batch", "3", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        fig = json.loads(p.stdout)
        self.assertEqual(fig["errors"], 0, fig)
        self.assertEqual(fig["requests"], 60)
        self.assertEqual(fig["sentences"], 180)
        self.assertGreater(fig["requests_per_s"], 0)
        lat = fig["latency_ms"]
        self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat)

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(training_sentence(l) for l in ("escalatory", "neutral")) + "\n\n")
        try:
            p = self.stance("bench", "-c", "1", "-n", "20", "--file", f.name, "--no-split")
        finally:
            os.unlink(f.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("requests/s", "sentences/s", "p50", "p90", "p99", "max", "errors:     0"):
            self.assertIn(word, p.stdout)

    def test_bench_counts_the_sentences_the_server_scores(self):
        # each line of the file is a text of two sentences: split (the
        # protocol's default) scores both, --no-split scores the line as one
        two = training_sentence("escalatory") + " " + training_sentence("conciliatory")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(two + "\n")
        try:
            figures = {}
            for mode in ((), ("--split",), ("--no-split",)):
                p = self.stance("bench", "-c", "2", "-n", "10", "--batch", "3", "--file", f.name,
                                "--json", *mode)
                self.assertEqual(p.returncode, 0, p.stderr)
                figures[mode] = json.loads(p.stdout)
        finally:
            os.unlink(f.name)
        self.assertEqual(figures[()]["sentences"], 60)
        self.assertEqual(figures[("--split",)]["sentences"], 60)
        self.assertEqual(figures[("--no-split",)]["sentences"], 30)

    def test_bench_duration_bounds_the_run(self):
        start = time.monotonic()
        p = self.stance("bench", "-c", "2", "--duration", "0.5", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.monotonic() - start, 30)
        fig = json.loads(p.stdout)
        self.assertGreater(fig["requests"], 0)
        self.assertEqual(fig["errors"], 0, fig)
        self.assertGreaterEqual(fig["seconds"], 0.5)

    def test_bench_counts_error_replies(self):
        p = self.stance("bench", "-c", "1", "-n", "5", "--models", "nosuch", "--json")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(json.loads(p.stdout)["error_replies"], 5)
        self.assertIn("unknown_model", p.stderr)


class ClientTwoModelsTest(ClientRunner, harness.DaemonCase):
    """A daemon with two models: results carry both unless --models picks."""

    bundles = (("stance", harness.MINI_STANCE), ("sentiment", harness.MINI_SENTIMENT))

    def test_both_models_by_default_and_models_picks(self):
        [r] = self.json_lines(self.stance(training_sentence("escalatory")))
        self.assertEqual(list(r["label"]), ["stance", "sentiment"])
        self.assertScoresSumToOne(r["scores"])
        [r] = self.json_lines(self.stance("--models", "sentiment", "--no-split", "Hello there."))
        self.assertEqual(list(r["scores"]), ["sentiment"])

    def test_terminal_names_each_model(self):
        argv = [harness.program("stance"), "--endpoint", self.daemon.endpoint, ARTICLE]
        rc, out = run_in_pty(argv, clean_env(TERM="xterm", NO_COLOR="1"))
        self.assertEqual(rc, 0, out)
        self.assertIn("stance: ", out)
        self.assertIn("sentiment: ", out)
        self.assertIn("sentences (sentiment):", out)


class ClientWithoutDaemonTest(unittest.TestCase):
    """What the client does when nothing listens."""

    def test_bench_against_nothing_exits_2(self):
        endpoint = "tcp://127.0.0.1:%d" % harness.free_port()
        p = subprocess.run([harness.program("stance"), "bench", "--endpoint", endpoint,
                            "-c", "2", "-n", "10", "--timeout", "200"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=clean_env(), timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("timeouts", p.stdout)

    def test_admin_against_nothing_exits_2(self):
        endpoint = "tcp://127.0.0.1:%d" % harness.free_port()
        p = subprocess.run([harness.program("stance"), "stats", "--endpoint", endpoint,
                            "--timeout", "150"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=clean_env(), timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 2, p.stderr)


if __name__ == "__main__":
    unittest.main()
