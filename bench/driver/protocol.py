"""protocol.py — the driver's side of the worker protocol (bench/runtimes/README.md).

A Worker is one worker process: requests go to its stdin one line at a time, and each answer is read
back from its stdout up to its status line (`ok`, or `error<TAB>message`), within a deadline. A
worker that dies, closes its stdout or misses the deadline is killed and reported as crashed
(WorkerCrash); an `error` answer is a WorkerError (a wrong answer, an engine error, a bad request),
after which the worker may go on or exit.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import IO, Sequence

PROTOCOL = 1


class WorkerError(Exception):
    """The worker answered `error`: what it said."""


class WorkerCrash(Exception):
    """The worker died, closed its output, broke the protocol or missed the deadline."""


@dataclass(frozen=True)
class Listed:
    """One benchmark as a worker lists it."""

    name: str
    ops: float
    threads: int


@dataclass(frozen=True)
class Sample:
    """One timed repeat: the iterations of the loop, its wall-clock and CPU time (ns), and the
    runtime's count of compiled methods after the request (None where the worker reports none)."""

    iterations: int
    wall_ns: int
    cpu_ns: int
    jit: int | None = None


def tail(path: str | None, lines: int = 12) -> str:
    """The last lines of a log file, for an error message ('' when there is none)."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 4096))
        text = f.read().decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-lines:])


class Worker:
    """A running worker. Use as a context manager, or call close()."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str, stderr_path: str | None,
                 timeout: float = 120.0, trace: str | None = None):
        self.argv = list(argv)
        self.timeout = timeout
        self.stderr_path = stderr_path
        # --trace: every request and its answer, one JSON line each, after a line saying how the
        # worker was started (its command, the variables the driver set, its folder): replay.py
        # feeds the same requests to a fresh worker.
        self._trace: IO[str] | None = None
        if trace:
            self._trace = open(trace, "w", encoding="utf-8")
            self._trace.write(json.dumps({"argv": self.argv, "cwd": cwd, "env": {
                k: v for k, v in env.items() if os.environ.get(k) != v}}) + "\n")
            self._t0 = time.monotonic()
        self._err: IO[bytes] | int = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        try:
            # Its own session: a Ctrl-C reaches the driver only, which then stops the worker itself.
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._err, env=env, cwd=cwd, start_new_session=True)
        except OSError as e:
            self._close_err()
            raise WorkerCrash(f"cannot start {self.argv[0]}: {e}") from e
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- lines ---------------------------------------------------------------------------------
    def _readline(self, deadline: float) -> str:
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerCrash(f"no answer within {self.timeout:g} s (killed)")
            if not self._sel.select(timeout=left):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                code = self.proc.wait()
                what = f"exited with status {code}" if code >= 0 else f"killed by signal {-code}"
                raise WorkerCrash(f"{what} before answering" + self._stderr_note())
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")

    def _stderr_note(self) -> str:
        t = tail(self.stderr_path)
        return f"; its stderr ends:\n{t}" if t else ""

    def request(self, *fields: object, timeout: float | None = None) -> list[list[str]]:
        """Sends one request and returns its data lines, split into fields."""
        line = "\t".join(str(f) for f in fields) + "\n"
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            code = self.proc.wait()
            raise WorkerCrash(f"exited with status {code} (stdin closed: {e})" + self._stderr_note()) from e
        sent = time.monotonic()
        deadline = sent + (timeout or self.timeout)
        data = []
        while True:
            got = self._readline(deadline).split("\t")
            if got[0] == "ok" and len(got) == 1 or got[0] == "error":
                if self._trace:
                    self._trace.write(json.dumps({"t": round(sent - self._t0, 6), "request": [str(f) for f in fields],
                                                  "answer": data if got[0] == "ok" else got}) + "\n")
                if got[0] == "ok":
                    return data
                raise WorkerError("\t".join(got[1:]) or "error")
            data.append(got)

    # ---- requests ------------------------------------------------------------------------------
    def hello(self) -> dict[str, str]:
        context, protocol = {}, None
        for f in self.request("hello"):
            if f[0] == "context" and len(f) >= 3:
                context[f[1]] = "\t".join(f[2:])
            elif f[0] == "protocol" and len(f) == 2:
                protocol = f[1]
            else:
                raise WorkerCrash(f"hello: unexpected line {f!r}")
        if protocol != str(PROTOCOL):
            raise WorkerCrash(f"hello: protocol {protocol!r}, the driver speaks {PROTOCOL}")
        return context

    def list(self) -> tuple[list[Listed], list[str]]:
        benches, mechs = [], []
        for f in self.request("list"):
            if f[0] == "bench" and len(f) == 4:
                try:
                    benches.append(Listed(f[1], float(f[2]), int(f[3])))
                except ValueError as e:
                    raise WorkerCrash(f"list: bad line {f!r}") from e
            elif f[0] == "first-call" and len(f) == 2:
                mechs.append(f[1])
            else:
                raise WorkerCrash(f"list: unexpected line {f!r}")
        return benches, mechs

    def data(self) -> str:
        lines = self.request("data")
        if len(lines) != 1 or lines[0][0] != "checksum" or len(lines[0]) != 2:
            raise WorkerCrash(f"data: unexpected answer {lines!r}")
        return lines[0][1]

    def run(self, name: str, iterations: int, repeats: int, timeout: float | None = None) -> list[Sample]:
        lines = self.request("run", name, iterations, repeats, timeout=timeout)
        times, jit = [], None
        try:
            for f in lines:
                if f[0] == "sample" and len(f) == 3:
                    times.append((int(f[1]), int(f[2])))
                elif f[0] == "jit" and len(f) == 2:
                    jit = int(f[1])
                else:
                    raise WorkerCrash(f"run: unexpected line {f!r}")
        except ValueError as e:
            raise WorkerCrash(f"run: bad line in {lines!r}") from e
        out = [Sample(iterations, wall, cpu, jit) for wall, cpu in times]
        if len(out) != repeats:
            raise WorkerCrash(f"run: {len(out)} samples for {repeats} repeats")
        return out

    # ---- ending --------------------------------------------------------------------------------
    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()

    def close(self, grace: float = 10.0) -> int:
        """Asks the worker to quit (closes its stdin) and returns its exit status; kills it if it
        does not exit within grace seconds."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        self._sel.close()
        self.proc.stdout.close()
        self._close_err()
        if self._trace:
            self._trace.close()
        return code

    def _close_err(self) -> None:
        if not isinstance(self._err, int):
            self._err.close()
