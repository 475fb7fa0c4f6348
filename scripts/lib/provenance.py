#!/usr/bin/python3
"""provenance.py — records the conditions of a benchmark run: machine, OS, toolchain, libraries,
build, source revision, command line. Every field is read off the machine, never typed by hand;
what cannot be read says "unavailable".
Usage: provenance.py OUT.json BUILD_DIR [key=value ...] -- COMMAND LINE...
"""
import datetime
import json
import os
import platform
import re
import shlex
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable"


def first_line(text):
    return text.splitlines()[0] if text else "unavailable"


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "unavailable"


def cpu_model():
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unavailable"


def boost():
    b = read("/sys/devices/system/cpu/cpufreq/boost")
    if b != "unavailable":
        return {"1": "on", "0": "off"}.get(b, b)
    nt = read("/sys/devices/system/cpu/intel_pstate/no_turbo")
    return {"0": "on", "1": "off"}.get(nt, "unavailable")


def cmake_cache(build_dir):
    cache = {}
    for line in read(os.path.join(build_dir, "CMakeCache.txt")).splitlines():
        m = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line)
        if m:
            cache[m.group(1)] = m.group(2)
    return cache


def dpkg_version(pkg):
    return run("dpkg-query", "-W", "-f=${Version}", pkg)


def bind_now(path):
    dyn = run("readelf", "-d", path)
    if dyn == "unavailable":
        return dyn
    return "eager (BIND_NOW)" if "BIND_NOW" in dyn or re.search(r"Flags:.*\bNOW\b", dyn) else "lazy"


def main(argv):
    out, build_dir = argv[0], argv[1]
    rest = argv[2:]
    sep = rest.index("--") if "--" in rest else len(rest)
    options = dict(kv.split("=", 1) for kv in rest[:sep])
    command = rest[sep + 1:]
    cache = cmake_cache(build_dir)
    bt = cache.get("CMAKE_BUILD_TYPE", "unavailable")
    bt_up = bt.upper()
    status = run("git", "status", "--porcelain", "--untracked-files=no")
    prov = {
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": socket.gethostname(),
        "command": " ".join(shlex.quote(c) for c in command),
        "options": options,
        "machine": {
            "cpu_model": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "governor": read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            "boost": boost(),
            "smt": read("/sys/devices/system/cpu/smt/active"),
            "aslr": read("/proc/sys/kernel/randomize_va_space"),
            "virtualization": run("systemd-detect-virt"),
            "load_average_at_start": read("/proc/loadavg"),
            "memory": first_line(read("/proc/meminfo")),
        },
        "os": {
            "kernel": platform.release(),
            "distribution": dict(
                line.split("=", 1) for line in read("/etc/os-release").splitlines() if "=" in line
            ).get("PRETTY_NAME", "unavailable").strip('"'),
        },
        "toolchain": {
            "cc": first_line(run(cache.get("CMAKE_C_COMPILER", "cc"), "--version")),
            "cxx": first_line(run(cache.get("CMAKE_CXX_COMPILER", "c++"), "--version")),
            "cmake": first_line(run("cmake", "--version")),
            "valgrind": run("valgrind", "--version"),
            "hyperfine": run("hyperfine", "--version"),
            "python": sys.version.split()[0],
        },
        "libraries": {
            "lmdb": run("pkg-config", "--modversion", "lmdb") + " (liblmdb0 " + dpkg_version("liblmdb0") + ")",
            "google_benchmark": dpkg_version("libbenchmark-dev")
            + " (Debian's package; it reports itself as a debug build — see gbench.json context"
              " library_build_type; it times our Release code, its own build affects only its overhead)",
            "glibc": platform.libc_ver()[1],
        },
        "build": {
            "dir": os.path.relpath(build_dir, ROOT),
            "type": bt,
            "c_flags": (cache.get("CMAKE_C_FLAGS", "") + " " + cache.get(f"CMAKE_C_FLAGS_{bt_up}", "")).strip(),
            "cxx_flags": (cache.get("CMAKE_CXX_FLAGS", "") + " " + cache.get(f"CMAKE_CXX_FLAGS_{bt_up}", "")).strip(),
            "plt_binding": bind_now(os.path.join(build_dir, "bench", "first_call_plt")),
            "durability": "no-sync (KV_DURABLE_NOSYNC) in every benchmark that writes",
        },
        "source": {
            "commit": run("git", "rev-parse", "HEAD"),
            "describe": run("git", "describe", "--always", "--dirty"),
            "dirty": bool(status) and status != "unavailable",
        },
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(prov, f, indent=2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
