"""browser.py — a page as a person sees it: report.png, the whole page as Debian's headless Chromium
lays it out at 1400 px, made with nothing but Chromium.

Chromium's own --screenshot flag captures only the window, and the page's height is not known
before it is laid out, so this speaks the DevTools protocol to Chromium over a pipe
(--remote-debugging-pipe: JSON messages, each ending in a NUL byte, read from fd 3 and written to fd
4): open the page, wait for it to load, ask its height, capture it whole. No network, no port, a
fresh profile folder removed afterwards. (The browser test, tests/browser/, drives the same
Chromium through Playwright and measures the page; this module only takes the picture.)
"""
import base64
import fcntl
import json
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time

WIDTH = 1400
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--hide-scrollbars", "--mute-audio", "--disable-extensions")
TIMEOUT = 90.0  # seconds, for the whole picture


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Pipe:
    """One Chromium with a DevTools pipe; send() waits for the answer to its command."""

    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():  # in the child: fd 3 reads our commands, fd 4 writes the answers (both inheritable;
            # every other descriptor Python opened is close-on-exec)
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)  # above 4 first, so neither dup2 clobbers the other
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                                      "about:blank"], close_fds=False, preexec_fn=wire,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer, self.events, self.next_id = b"", [], 0
        self.deadline = time.monotonic() + TIMEOUT

    def read_message(self):
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT:g} s")
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            m = self.read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session):
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and m.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self.read_message())

    def close(self):
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError, EOFError, ValueError):
            pass
        for fd in (self.to_chrome, self.from_chrome):
            os.close(fd)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def shrink(png_path):
    """256 colours instead of millions: a third of the size, and a report is flat colour and text. Left
    as it is where Pillow (python3-pil, which matplotlib brings) is missing."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(png_path) as im:
        small = im.convert("RGB").quantize(256)
    small.save(png_path, optimize=True)


def screenshot(html_path, png_path, width=WIDTH):
    """Writes png_path: the whole page at html_path, width px wide, scripts off. Returns None, or why
    there is no picture (Chromium missing, or what went wrong)."""
    chromium = find_chromium()
    if not chromium:
        return "Chromium is not installed (`apt-get install chromium`; `./scripts/test` installs it)"
    profile = tempfile.mkdtemp(prefix="ffibench-chromium-")
    pipe = None
    try:
        pipe = Pipe(chromium, profile)
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session)
        pipe.send("Emulation.setScriptExecutionDisabled", {"value": True}, session)
        pipe.send("Page.enable", {}, session)
        pipe.send("Page.navigate", {"url": pathlib.Path(os.path.abspath(html_path)).as_uri()}, session)
        pipe.wait_event("Page.loadEventFired", session)
        size = pipe.send("Page.getLayoutMetrics", {}, session)["cssContentSize"]
        shot = pipe.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}}, session)
        with open(png_path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        shrink(png_path)
        return None
    except (OSError, RuntimeError, TimeoutError, EOFError, ValueError, KeyError) as e:
        return f"Chromium failed: {type(e).__name__}: {e}"
    finally:
        if pipe:
            pipe.close()
        shutil.rmtree(profile, ignore_errors=True)
