#!/usr/bin/python3
"""A fake worker with known answers, for testing the driver (tests/driver/test_driver.py).

Its benchmarks report made-up times, so the right figures are known exactly:
  fake/ok/const          1000 ns per iteration, always (fake/ok/scan too, with 1024 ops per iteration)
  fake/ok/warm           5000 ns per iteration at its first run in a process, 20 % less at each run
                         after, down to 1000 (a cache warming, a JIT compiling as it goes)
  fake/ok/tier           5000 ns per iteration for its first 8 runs in a process, then 1000 (a JIT's
                         tier-up: a plateau no steady-state rule can see past without a minimum)
  fake/ok/jit            1000 ns per iteration always, but reports a compile count (`jit`) that
                         grows for its first 10 runs in a process (a JIT compiling in the background)
  fake/ok/first          1000 ns per iteration, but its first run in a process takes 50 ms whatever
                         the iteration count (one-time costs: loading, binding, compiling)
  fake/ok/noop/threads:2 two threads, 3000 ns of wall time per iteration
  fake/ok/sleep          really sleeps 20 ms per run (for interrupting a run)
  fake/bad/wrong         answers `error` (a wrong answer)
  fake/bad/crash         exits in the middle of a run
  fake/bad/hang          never answers
  fake/control/loop      100 ns per iteration
("fake" is $FAKE_NAME when set.) Every process appends "PID NAME" to $FAKE_LOG for each benchmark it runs. $FAKE_CHECKSUM, when
set, replaces the data set's checksum it reports. first-call: `ok` prints "100 200 50", `bad` fails.
"""
import os
import sys
import time

RT = os.environ.get("FAKE_NAME", "fake")  # the runtime's name, the first part of every name
BENCHES = {f"{RT}/{k}": v for k, v in {
    "control/loop": (1, 1), "ok/const": (1, 1), "ok/warm": (1, 1), "ok/tier": (1, 1), "ok/jit": (1, 1), "ok/first": (1, 1),
    "ok/noop/threads:2": (1, 2),
    "ok/sleep": (1, 1), "ok/scan": (1024, 1), "bad/wrong": (1, 1), "bad/crash": (1, 1),
    "bad/hang": (1, 1)}.items()}


def main():
    if sys.argv[1:2] == ["first-call"]:
        if sys.argv[2] == "ok":
            print(100, 200, 50)
        return 0 if sys.argv[2] in ("ok", "none") else 1
    runs = {}
    log = open(os.environ["FAKE_LOG"], "a") if os.environ.get("FAKE_LOG") else None
    out = sys.stdout
    for line in sys.stdin:
        f = line.rstrip("\n").split("\t")
        if f == ["quit"]:
            break
        if f == ["hello"]:
            out.write("context\truntime_name\tfake\ncontext\truntime_version\t1.0\nprotocol\t1\nok\n")
        elif f == ["list"]:
            for name, (ops, threads) in BENCHES.items():
                out.write(f"bench\t{name}\t{ops}\t{threads}\n")
            out.write("first-call\tok\nfirst-call\tbad\nok\n")
        elif f == ["data"]:
            with open(os.path.join(os.environ["FFIBENCH_DATA"], "manifest.txt")) as m:
                real = next(x.split("\t")[1].strip() for x in m if x.startswith("checksum\t"))
            out.write(f"checksum\t{os.environ.get('FAKE_CHECKSUM', real)}\nok\n")
        elif f[0] == "run" and len(f) == 4 and f[1] in BENCHES:
            name, n, reps = f[1], int(f[2]), int(f[3])
            short = name[len(RT) + 1:]
            if name not in runs and log:
                log.write(f"{os.getpid()} {name}\n")
                log.flush()
            if short == "bad/wrong":
                out.write("error\twrong answer: record 7 answered 8\n")
            elif short == "bad/crash":
                os._exit(3)
            elif short == "bad/hang":
                time.sleep(3600)
            else:
                for _ in range(reps):
                    k = runs.get(name, 0)
                    runs[name] = k + 1
                    per = {"control/loop": 100, "ok/noop/threads:2": 3000, "ok/tier": 5000 if k < 8 else 1000,
                           "ok/warm": max(1000, int(5000 * 0.8 ** k))}.get(short, 1000)
                    if short == "ok/sleep":
                        time.sleep(0.02)
                    wall = 50_000_000 if short == "ok/first" and k == 0 else per * n
                    out.write(f"sample\t{wall}\t{wall}\n")
                if short == "ok/jit":
                    out.write(f"jit\t{min(runs[name], 10) * 7}\n")
                out.write("ok\n")
        else:
            out.write(f"error\tbad request {line.strip()!r}\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
