#!/usr/bin/python3
"""The browser test: the report and the history page of small stored runs, rendered by Debian's
headless Chromium at 1400 px and measured in the page by check.js (playwright-core, pinned in
package.json and package-lock.json, installed by ./scripts/test with `npm ci`; it drives
/usr/bin/chromium and downloads no browser). Fails — never skips — when an element is wider than the
viewport, an image or SVG did not load, the page asks for anything outside its folder, or two legend
entries overlap; and, to show that each of those checks can fail, on four pages built to break one
each. Also checks that the report step wrote report.png."""
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
INPUTS = os.path.join(ROOT, "tests", "scripts", "inputs")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import browser  # noqa: E402
import history  # noqa: E402
import report  # noqa: E402

BROKEN = {  # page: (its body, the kind of problem check.js must find)
    "wide.html": ('<div style="width: 2000px">a table too wide for the page</div>', "wide"),
    "broken.html": ('<img src="missing.png" alt="">', "broken"),
    "external.html": ('<img src="http://127.0.0.1:9/x.png" alt="">', "external"),
    "overlap.html": ('<svg width="300" height="60" xmlns="http://www.w3.org/2000/svg">'
                     '<g id="legend0-entry0-text"><text x="10" y="30">first entry</text></g>'
                     '<g id="legend0-entry1-text"><text x="40" y="32">second entry</text></g></svg>', "overlap"),
}


def npm_installed():
    return os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core"))


class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.folder = os.path.join(cls.tmp, "run")
        shutil.copytree(os.path.join(INPUTS, "report-run"), cls.folder)
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
            cls.broken_sections = report.build(cls.folder)
            history.build(os.path.join(INPUTS, "history"), os.path.join(cls.tmp, "history"), 0.05, None,
                          screenshot=False)
        cls.stderr = err.getvalue()
        for name, (body, _) in BROKEN.items():
            with open(os.path.join(cls.tmp, name), "w", encoding="utf-8") as f:
                f.write(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def check(self):
        """check.js's verdict on every page, from one Chromium started once for the whole class."""
        if not hasattr(type(self), "found"):
            self.assertTrue(shutil.which("node"), "node is not installed: ./scripts/test installs nodejs")
            self.assertTrue(npm_installed(), "playwright-core is not installed in tests/browser: ./scripts/test "
                                             "runs `npm ci` there")
            self.assertTrue(browser.find_chromium(), "chromium is not installed: ./scripts/test installs it")
            pages = [os.path.join(self.folder, "report.html"), os.path.join(self.tmp, "history", "history.html")]
            pages += [os.path.join(self.tmp, name) for name in BROKEN]
            p = subprocess.run(["node", os.path.join(HERE, "check.js"), *pages], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 1, p.stderr[-3000:])  # 1: the broken pages have problems
            type(self).found = {os.path.basename(r["page"]): r for r in map(json.loads, p.stdout.splitlines())}
        return self.found

    def test_report_and_history_render_clean(self):
        self.assertEqual(self.broken_sections, 0, self.stderr)
        found = self.check()
        for page in ("report.html", "history.html"):
            self.assertEqual(found[page]["problems"], [], page)
        self.assertEqual(found["report.html"]["charts"], 8)
        self.assertGreater(found["report.html"]["legendEntries"], 10)  # the legends were measured
        self.assertEqual(found["history.html"]["charts"], 2)

    def test_each_check_can_fail(self):
        found = self.check()
        for name, (_, kind) in BROKEN.items():
            kinds = {p.split(":")[0] for p in found[name]["problems"]}
            self.assertIn(kind, kinds, f"{name}: {found[name]['problems']}")

    def test_report_png_of_the_whole_page(self):
        self.assertNotIn("no report.png", self.stderr)
        with open(os.path.join(self.folder, "report.png"), "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", head[16:24])
        self.assertEqual(width, 1400)
        self.assertGreater(height, 2000)  # the whole page, not the first screen


if __name__ == "__main__":
    unittest.main(verbosity=2)
