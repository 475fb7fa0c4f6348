#!/usr/bin/python3
"""Tests for scripts/report (scripts/lib/report.py) on stored results folders: inputs/report-run is a
complete folder with known answers (7 forks of one repetition each, within +-0.3 % of a round value;
a control loop of 0.25 ns; a second runtime, python, in microseconds with its own control loop; a
failed benchmark; a noisy one; first calls partly in ms; hyperfine, icount, a failed validate.json;
a provenance that earns every warning). Also a folder with only a google-benchmark file, an empty
one and an interrupted one: the report must still be written, with notes. And the HTML must be
well-formed and self-contained, open with the answer (its verdict on the origin sample's claim made
from the figures: tested on .NET folders with known answers), and report.png must be the whole page
as Chromium renders it (Chromium is installed by ./scripts/test: a missing one fails, it does not
skip). The layout itself is measured in a browser by tests/browser."""
import html.parser
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import browser  # noqa: E402
import report  # noqa: E402

INPUTS = os.path.join(HERE, "inputs")
CHARTS = ("answer", "cost-ladder", "overhead", "payload", "batching", "instructions", "process", "threads")
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


def make_folder(tmp, files):
    """A results folder in tmp with the given {name: source path or dict (written as JSON)}."""
    os.makedirs(tmp, exist_ok=True)
    for name, src in files.items():
        if isinstance(src, dict):
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(src, f)
        else:
            shutil.copy(src, os.path.join(tmp, name))
    return tmp


def build(folder, screenshot=False):
    """report.build, quietly; returns (sections that broke, report.md)."""
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
        broken = report.build(folder, screenshot)
    if broken:
        print(err.getvalue(), file=sys.stderr)
    with open(os.path.join(folder, "report.md"), encoding="utf-8") as f:
        return broken, f.read()


class TagBalance(html.parser.HTMLParser):
    """Fails on a closing tag that does not close the innermost open one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value and not value.startswith(("#", "data:")):
                self.errors.append(f"external reference {name}={value}")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()


def table_row(md, first_cell):
    return next(line for line in md.splitlines() if line.startswith(f"| {first_cell} |"))


class FullRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.dir = os.path.join(cls.tmp, "run")
        shutil.copytree(os.path.join(INPUTS, "report-run"), cls.dir)
        cls.broken, cls.md = build(cls.dir)
        with open(os.path.join(cls.dir, "report.html"), encoding="utf-8") as f:
            cls.html = f.read()
        cls.folder_run = report.Run(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_every_section_drawn(self):
        self.assertEqual(self.broken, 0)
        headings = re.findall(r"(?m)^## (.*)$", self.md)
        self.assertEqual(headings, ["The answer", "The run", "Before you trust these numbers", "The cost ladder",
                                    "The boundary next to real work", "Payload: time per get against value size",
                                    "Batching: time per key against batch size", "Process start and the first call",
                                    "Two threads", "Instructions per call", "Accuracy", "Every benchmark",
                                    "How the figures are made"])

    def test_answer_first(self):
        # the page opens with the answer: a chart of each runtime's cheapest mechanism, then the verdict
        first = self.md.split("\n## ")[1]
        self.assertTrue(first.startswith("The answer"))
        self.assertIn("](answer.svg)", first)
        self.assertIn("### The origin sample's claim", first)
        svg = open(os.path.join(self.dir, "answer.svg"), encoding="utf-8").read()
        self.assertIn("c: direct", svg)
        self.assertIn("python: ctypes", svg)
        self.assertLess(svg.index("c: direct"), svg.index("python: ctypes"))  # cheapest first
        self.assertIn("1.00 ns", svg)  # the value beside its dot

    def test_table_of_contents_links_every_section(self):
        toc = re.search(r'<nav class="toc">(.*?)</nav>', self.html, re.S).group(1)
        links = re.findall(r'href="#([^"]+)"', toc)
        self.assertEqual(len(links), len(re.findall(r"(?m)^## ", self.md)))
        for anchor in links:
            self.assertIn(f'<h2 id="{anchor}">', self.html)
        self.assertIn("(#payload-time-per-get-against-value-size)", self.md)  # GitHub's anchors in Markdown

    def test_conditions_compact_and_folded(self):
        run = self.md.split("## The run")[1].split("\n## ")[0]
        self.assertIn("Measured 2026-11-25T00:00:00Z on `fixture`: Fixture CPU, 2 logical CPUs (kvm)", run)
        self.assertIn("7 processes × 1 repetitions per benchmark", run)  # from the data
        self.assertIn("<details><summary>Every condition (18)</summary>", run)
        html_run = self.html.split('id="the-run"')[1].split("<h2")[0]
        self.assertIn('<details class="part"><summary>Every condition (18)</summary>', html_run)
        # warnings: a line each, the rest folded
        warn = self.html.split('id="before-you-trust-these-numbers"')[1].split("<h2")[0]
        self.assertIn('<details class="callout warning"><summary><strong>warning:</strong> not a Release build'
                      "</summary>", warn)
        self.assertNotIn("<details open", self.html)

    def test_small_multiples(self):
        # a panel per runtime, its own mechanisms in its legend, C's best dashed in the others
        svg = open(os.path.join(self.dir, "payload.svg"), encoding="utf-8").read()
        legend = re.findall(r'<g id="legend(\d+)-entry\d+-text">\s*<text[^>]*>([^<]*)</text>', svg)
        by_legend = {}
        for k, label in legend:
            by_legend.setdefault(k, []).append(label)
        self.assertEqual(sorted(by_legend.values()), [["C's best (c/direct)", "ctypes"],
                                                      ["direct", "handle", "lmdb"]])

    def test_charts_written(self):
        for name in CHARTS:
            ET.parse(os.path.join(self.dir, name + ".svg"))  # well-formed XML
            self.assertIn(f"]({name}.svg)", self.md)
        with open(os.path.join(self.dir, "cost-ladder.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_html_well_formed_and_self_contained(self):
        parser = TagBalance()
        parser.feed(self.html)
        parser.close()
        self.assertEqual(parser.errors, [])
        self.assertEqual(parser.stack, [])
        self.assertNotIn("<script", self.html)
        self.assertNotRegex(self.html, r"(?i)(src|href)=\"(https?:)?//")
        svgs = re.findall(r"<svg\b.*?</svg>", self.html, re.S)
        self.assertEqual(len(svgs), len(CHARTS))
        for svg in svgs:
            ET.fromstring(svg)
        ids = re.findall(r'\bid="([^"]+)"', self.html)
        self.assertEqual(len(ids), len(set(ids)), "ids collide between inlined charts")
        for ref in set(re.findall(r'(?:href="#|url\(#)([^")]+)', self.html)):
            self.assertIn(ref, ids)

    def test_screenshot_of_the_page(self):
        # Chromium is installed by ./scripts/test: a missing browser fails here, it does not skip.
        self.assertTrue(browser.find_chromium(), "chromium is not installed: ./scripts/test installs it")
        png = os.path.join(self.tmp, "shot.png")
        self.assertIsNone(browser.screenshot(os.path.join(self.dir, "report.html"), png))
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", head[16:24])
        self.assertEqual(width, 1400)
        self.assertGreater(height, 3000)  # the whole page, not the first screen

    def test_cost_ladder_net_of_each_runtimes_control(self):
        self.assertIn("| `c/direct` | 1.00 [0.996, 1.00] | 1.50 [1.49, 1.51] | 1.25 [1.25, 1.25] |", self.md)
        self.assertIn("| `c/handle` | 3.00 [2.99, 3.01] | 5.00 [4.98, 5.02] | 4.00 [3.99, 4.01] |", self.md)
        # 0.07 us with a 0.02 us control loop: 50 ns
        self.assertIn("| `python/ctypes` | 50.0 [49.8, 50.2] | 60.0 [59.8, 60.2] | – |", self.md)

    def test_sub_nanosecond_figures_keep_their_digits(self):
        self.assertRegex(self.md, r"\| `c/direct/noop/threads:2` \| 7×1 \| 0.625 \| \[0.62\d, 0.62\d\] \|")
        self.assertIn("0.250 ns per iteration", self.md)

    def test_boundary_share(self):
        # direct: call 1 ns, get/bytes:8 50 ns -> k = 0.02; handle 60 ns -> 1 - 0.98 / 1.2
        share, lo, hi = report.boundary_share(self.folder_run, "c/handle", "get/bytes:8")
        self.assertAlmostEqual(share, 1 - 0.98 / 1.2)
        self.assertLess(lo, share)
        self.assertGreater(hi, share)
        self.assertAlmostEqual(report.boundary_share(self.folder_run, "c/direct", "get/bytes:8")[0], 0.02, places=3)
        # batch/n:16: 16 keys per crossing, so the direct call's share is 1 / (16 * 280)
        self.assertAlmostEqual(report.boundary_share(self.folder_run, "c/direct", "batch/n:16")[0], 1 / 4480, places=5)
        self.assertIsNone(report.boundary_share(self.folder_run, "c/lmdb", "get/bytes:8"))  # no noop of its own

    def test_where_the_boundary_drops_under_5_percent(self):
        self.assertEqual(report.crossover(self.folder_run, "c/handle", "get", "bytes")[0], 4096)  # 18 %, 9 %, 2.9 %
        self.assertEqual(report.crossover(self.folder_run, "c/handle", "batch", "n")[0], 16)      # 9.4 %, 0.4 %
        self.assertEqual(report.crossover(self.folder_run, "c/direct", "get", "bytes")[0], 8)
        self.assertIsNone(report.crossover(self.folder_run, "python/ctypes", "get", "bytes")[0])  # 55 %
        self.assertIn("| `c/direct` | 2.0 % (≤ 2.0 %) | 1.7 % (≤ 1.7 %) | 1.0 % (≤ 1.0 %) | from 8 B |", self.md)
        self.assertIn("| `c/handle` | 18.3 % (≤ 18.6 %) | 9.2 % (≤ 9.5 %) | 2.9 % (≤ 3.2 %) | from 4 KiB |", self.md)
        self.assertIn("| `python/ctypes` | 55.5 % (≤ 55.6 %) | – | – | not shown |", self.md)

    def test_summary_line_per_runtime(self):
        short = self.md.split("### Per runtime")[1].split("##")[0]
        self.assertIn("**c**: the cheapest way to call the engine is `c/direct`, 1.00 ns", short)
        self.assertIn("of a `get`: from 8 B values; of batched gets: from batches of 1", short)
        self.assertIn("**python**: the cheapest way to call the engine is `python/ctypes`, 50.0 ns", short)
        self.assertIn("not shown up to 8 B values (55.5 %", short)

    def test_warnings(self):
        warn = self.md.split("## Before you trust")[1].split("\n## ")[0]
        for text in ("`c/handle/put/commit_every:100` (run: wrong answer)",
                     "`c/handle/get/mode:throughput` 13.2 %",
                     "governor `powersave`", "boost (turbo) is on", "not built as Release (build type Debug)",
                     "google-benchmark library reports itself as a debug build",
                     "load average was 1.5 on 2 CPUs", "(`kvm`)", "uncommitted changes (`abc1234-dirty`)"):
            self.assertIn(text, warn)
        self.assertNotIn("process(es) (forks) per benchmark", warn)  # 7 forks: enough
        self.assertNotIn("did not record which process", warn)  # every entry has its fork
        self.assertEqual(warn.count("*What to do:*"), warn.count("**warning:**"))

    def test_failed_benchmark_listed(self):
        self.assertIn("| `c/handle/put/commit_every:100` | 0 | failed | run: wrong answer |", self.md)

    def test_instructions_net_of_the_control(self):
        self.assertEqual(table_row(self.md, "noop"), "| noop | 5.00 | 22.0 | – |")
        self.assertEqual(table_row(self.md, "batch/n:16"), "| batch/n:16 | 1,750 | – | – |")  # 1750 - 3/16

    def test_process_and_first_call(self):
        # a row per mechanism: whole process, first call, second call, load; the load from ms
        self.assertIn("| `c/direct` | 640 µs [630 µs, 660 µs] | 150 ns [140 ns, 160 ns] | 20.0 ns [20.0 ns, 30.0 ns] "
                      "| – | 6 / 6 / 6 / – |", self.md)  # the first call with no control taken off
        self.assertIn("| `c/dlopen` | 700 µs [690 µs, 720 µs] | – | – | 130 µs [120 µs, 150 µs] | 6 / – / – / 6 |",
                      self.md)

    def test_thread_scaling(self):
        self.assertIn("| `c/direct/noop` | 1.25 | 2 | 0.625 | 2.00× [1.99, 2.01] | 100.0 % |", self.md)

    def test_accuracy_from_validate_json(self):
        acc = self.md.split("## Accuracy")[1].split("##")[0]
        self.assertIn("verdict **fail** (1 of 2 checks passed)", acc)
        self.assertIn("| A/A: direct vs an identical twin | <= 2 of 20 significant | 5 significant | **FAIL** |", acc)


def entries(name, values, fork_each=True):
    """google-benchmark entries: one repetition per value, each its own fork (a per-process figure) or,
    with fork_each=False, 3 repetitions in each of len(values) forks around the value."""
    if fork_each:
        return [{"name": name, "run_type": "iteration", "real_time": v, "time_unit": "ns", "fork": i}
                for i, v in enumerate(values)]
    return [{"name": name, "run_type": "iteration", "real_time": v * (1 + 0.001 * (r - 1)), "time_unit": "ns",
             "fork": i} for i, v in enumerate(values) for r in range(3)]


def csharp_run(coreclr_add, first_calls=True):
    """A .NET-only results folder: CoreCLR's dllimport and suppressgc bindings and NativeAOT's, each
    runtime with a 0.25 ns control loop; `coreclr_add` the net ns of CoreCLR's cheapest warm add."""
    five = lambda v: [v * (1 + 0.002 * (i - 2)) for i in range(5)]  # noqa: E731
    bench = []
    for rt in ("dotnet-coreclr", "dotnet-nativeaot"):
        bench += entries(f"{rt}/control/loop", five(0.25), False)
    bench += entries("dotnet-coreclr/dllimport/noop", five(5.25), False)
    bench += entries("dotnet-coreclr/dllimport/add/mode:latency", five(coreclr_add * 2 + 0.25), False)
    bench += entries("dotnet-coreclr/dllimport-suppressgc/noop", five(2.25), False)
    bench += entries("dotnet-coreclr/dllimport-suppressgc/add/mode:latency", five(coreclr_add + 0.25), False)
    bench += entries("dotnet-nativeaot/dllimport/noop", five(3.75), False)
    bench += entries("dotnet-nativeaot/dllimport/add/mode:latency", five(3.75), False)
    if first_calls:
        bench += entries("dotnet-coreclr/dllimport/first_call", [350e3, 351e3, 349e3, 352e3, 348e3, 350e3])
        bench += entries("dotnet-nativeaot/dllimport/first_call", [170e3, 171e3, 169e3, 172e3, 168e3, 170e3])
    return {"dotnet.json": {"context": {}, "benchmarks": bench}}


class OriginVerdict(unittest.TestCase):
    """The two sentences on the origin sample's claim come from the run's figures."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def verdict(self, files):
        folder = make_folder(os.path.join(self.tmp, str(len(os.listdir(self.tmp)))), files)
        broken, md = build(folder)
        self.assertEqual(broken, 0)
        return md.split("### The origin sample's claim\n\n")[1].split("\n")[0]

    def test_far_below_the_claim(self):
        self.assertEqual(self.verdict(csharp_run(2.0)),
                         "The origin sample's claim of about 2000 ns per P/Invoke on CoreCLR and 70 ns on CoreRT is "
                         "not what a warm call costs here: 2.00 ns on CoreCLR (a warm `add` through "
                         "`dotnet-coreclr/dllimport-suppressgc`, 1000× less) and 3.50 ns on CoreRT (a warm `add` "
                         "through `dotnet-nativeaot/dllimport`, 20× less). A cost of the claim's size, or more, is "
                         "paid once per process: the first `[DllImport]` call in a new process costs 170 µs to "
                         "350 µs (2 C# runtime(s); loading the library and building the call stub included).")

    def test_the_claim_borne_out_in_part(self):
        text = self.verdict(csharp_run(1500.0, first_calls=False))
        self.assertIn("holds only in part here: 1.50 µs on CoreCLR (a warm `add` through "
                      "`dotnet-coreclr/dllimport-suppressgc`, within a factor of 2) and 3.50 ns on CoreRT", text)
        self.assertIn("The run has no first-call figures for C#", text)

    def test_no_csharp_runtime(self):
        text = self.verdict({"gbench.json": os.path.join(INPUTS, "run", "gbench.json")})
        self.assertTrue(text.startswith("This run measured no C# runtime (it ran c), so it cannot test"), text)


class CleanRun(unittest.TestCase):
    def test_no_warnings_when_nothing_is_wrong(self):
        tmp = tempfile.mkdtemp()
        try:
            with open(os.path.join(INPUTS, "report-run", "gbench.json")) as f:
                data = json.load(f)
            data["context"]["library_build_type"] = "release"
            data["benchmarks"] = [b for b in data["benchmarks"]
                                  if b["name"] not in ("c/handle/put/commit_every:100", "c/handle/get/mode:throughput")]
            with open(os.path.join(INPUTS, "report-run", "provenance.json")) as f:
                prov = json.load(f)
            prov["machine"].update(governor="performance", boost="off", virtualization="none",
                                   load_average_at_start="0.05 0.10 0.10 1/100 1")
            prov["build"]["type"] = "Release"
            prov["source"].update(describe="abc1234", dirty=False)
            folder = make_folder(tmp, {"gbench.json": data, "provenance.json": prov})
            broken, md = build(folder)
            self.assertEqual(broken, 0)
            self.assertIn("No warnings", md)
            self.assertNotIn("**warning:**", md)
        finally:
            shutil.rmtree(tmp)


class MissingInputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_only_a_google_benchmark_file(self):
        # inputs/run: 3 repetitions, a control loop, noop, a scan in us, a failed put; nothing else
        folder = make_folder(self.tmp, {"gbench.json": os.path.join(INPUTS, "run", "gbench.json")})
        broken, md = build(folder)
        self.assertEqual(broken, 0)
        for note in ("no provenance.json", "did not record which process measured each repetition", "no `icount.json`",
                     "no `hyperfine.json` and no `first_call` benchmarks", "no `/threads:N` benchmarks",
                     "no `get/bytes:N` benchmarks", "no `batch/n:N` benchmarks", "`c/direct/put` (run: wrong answer)"):
            self.assertIn(note, md)
        self.assertNotIn("## Accuracy", md)
        self.assertIn("| `c/direct` | 1.50 | – | – |", md)  # 3 unlabelled repetitions: too few for a CI
        self.assertTrue(os.path.exists(os.path.join(folder, "report.html")))

    def test_an_empty_folder(self):
        broken, md = build(self.tmp)
        self.assertEqual(broken, 0)
        self.assertIn("no benchmark has a result in this folder", md)
        self.assertIn("no `noop` or `add` benchmark", md)

    def test_an_interrupted_run(self):
        folder = make_folder(self.tmp, {"gbench.json": os.path.join(INPUTS, "interrupted-gbench.json")})
        broken, md = build(folder)
        self.assertEqual(broken, 0)
        self.assertIn("`gbench.json` was cut short", md)
        self.assertIn("| timing file `gbench.json` | 3 benchmarks — cut short |", md)

    def test_optional_fields_absent(self):
        # google-benchmark entries with neither ops, time_unit nor run_name; provenance without machine
        entries = [{"name": "c/direct/noop", "run_type": "iteration", "real_time": t} for t in (2.0, 2.1, 1.9)]
        folder = make_folder(self.tmp, {"gbench.json": {"benchmarks": entries}, "provenance.json": {"host": "h"},
                                        "hyperfine.json": {"results": [{"command": "c/direct/process"}]},
                                        "validate.json": {"checks": [{"name": "x"}]}})
        broken, md = build(folder)
        self.assertEqual(broken, 0)
        self.assertIn("| `c/direct` | 2.00 | – | – |", md)
        self.assertIn("verdict **unknown**", md)


    def test_unreadable_optional_files(self):
        folder = make_folder(self.tmp, {"gbench.json": os.path.join(INPUTS, "run", "gbench.json")})
        for name, text in (("provenance.json", "{not json"), ("icount.json", '{"nothing": 1}'),
                           ("hyperfine.json", "[]"), ("validate.json", ""), ("notes.json", '{"a": 1}')):
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
        broken, md = build(folder)
        self.assertEqual(broken, 0)
        for name in ("provenance.json", "icount.json", "hyperfine.json", "validate.json"):
            self.assertIn(f"`{name}` (", md)
        self.assertIn("`notes.json` was skipped: not google-benchmark JSON", md)


class WithoutChromium(unittest.TestCase):
    def test_the_report_says_why_there_is_no_picture(self):
        tmp = tempfile.mkdtemp()
        real = browser.find_chromium
        try:
            browser.find_chromium = lambda: None
            make_folder(tmp, {"gbench.json": os.path.join(INPUTS, "run", "gbench.json")})
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
                self.assertEqual(report.build(tmp), 0)
            self.assertIn("report: no report.png: Chromium is not installed (`apt-get install chromium`", err.getvalue())
            self.assertFalse(os.path.exists(os.path.join(tmp, "report.png")))
            self.assertTrue(os.path.exists(os.path.join(tmp, "report.html")))
        finally:
            browser.find_chromium = real
            shutil.rmtree(tmp)


class Wrapper(unittest.TestCase):
    def test_exit_status(self):
        script = os.path.join(ROOT, "scripts", "report")
        tmp = tempfile.mkdtemp()
        try:
            make_folder(tmp, {"gbench.json": os.path.join(INPUTS, "run", "gbench.json")})
            p = subprocess.run([script, tmp], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.exists(os.path.join(tmp, "report.html")))
            self.assertEqual(subprocess.run([script], capture_output=True).returncode, 2)
            self.assertEqual(subprocess.run([script, os.path.join(tmp, "missing")], capture_output=True).returncode, 2)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
