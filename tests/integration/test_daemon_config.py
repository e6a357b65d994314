"""stanced's command line and start-up failures: each has its own exit
code and a message naming the file and line (or the model, or the
endpoint)."""

import os
import shutil
import socket
import tempfile
import unittest

from tests.integration import harness

EXIT_USAGE, EXIT_CONFIG, EXIT_MODELS, EXIT_BIND = 2, 3, 4, 5


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stanced-conf-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, text):
        path = os.path.join(self.tmp, "c.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_help_and_version(self):
        rc, out, err = harness.run_stanced(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("--config", out)
        rc, out, err = harness.run_stanced(["--version"])
        self.assertEqual(rc, 0)
        self.assertIn("stanced", out)

    def test_misuse(self):
        rc, out, err = harness.run_stanced(["--frobnicate"])
        self.assertEqual(rc, EXIT_USAGE)
        self.assertEqual(out, "")
        self.assertIn("usage", err)

    def test_config_errors_name_file_and_line(self):
        cases = [
            ("models:\n  stance: x\nworkerz: 2\n", ":3:", "workerz"),
            ("models:\n  stance: x\nworkers: many\n", ":3:", "workers"),
            ("models:\n  stance: x\nworkers: 0\n", ":3:", "workers"),
            ("models:\n  stance: x\nlimits:\n  max_texts: -1\n", ":4:", "max_texts"),
            ("models:\n  stance: x\nlimits:\n  max_cats: 1\n", ":4:", "max_cats"),
            ("models:\n  stance: x\nlog_level: loud\n", ":3:", "log_level"),
            ("models:\n  stance: x\nendpoints: tcp://127.0.0.1:1\n", ":3:", "endpoints"),
            ("workers: 2\n", ":1:", "models"),
            ("models: [\n", ":", "YAML"),
        ]
        for text, line, word in cases:
            path = self.config(text)
            rc, out, err = harness.run_stanced(["--config", path])
            self.assertEqual(rc, EXIT_CONFIG, (text, err))
            self.assertIn(path + line, err, text)
            self.assertIn(word, err, text)

    def test_missing_config(self):
        rc, out, err = harness.run_stanced(["--config", os.path.join(self.tmp, "none.yaml")])
        self.assertEqual(rc, EXIT_CONFIG)
        self.assertIn("none.yaml", err)

    def test_missing_model(self):
        path = self.config("models:\n  stance: %s\n" % os.path.join(self.tmp, "nowhere"))
        rc, out, err = harness.run_stanced(["--config", path])
        self.assertEqual(rc, EXIT_MODELS, err)
        self.assertIn("nowhere", err)

    def test_bind_error(self):
        bundle = harness.train_bundle()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            path = harness.write_config(os.path.join(self.tmp, "c.yaml"), [("stance", bundle)],
                                        ["tcp://127.0.0.1:%d" % port])
            rc, out, err = harness.run_stanced(["--config", path])
        self.assertEqual(rc, EXIT_BIND, err)
        self.assertIn(str(port), err)

    def test_relative_model_path(self):
        bundle = harness.train_bundle()
        harness.copy_bundle(bundle, os.path.join(self.tmp, "m", "stance"))
        d = harness.Daemon(self.tmp, [("stance", "m/stance")])
        d.extra = ""
        try:
            d.start()
            self.assertEqual(d.request({"op": "models"})["models"][0]["name"], "stance")
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
