#!/usr/bin/env bash
# The results folder, checked on a tiny run of ./scripts/bench (the driver over the C suite) against
# this build: the folder is named <UTC timestamp>-<host>, holds the documented files, every benchmark
# ran in the forks asked for, and the names follow <runtime>/<mechanism>/<workload>[/<param>:<value>].
# Usage: test_results_folder.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
export build root tmp
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

FFIBENCH_BUILD_DIR="$build" FFIBENCH_RESULTS_ROOT="$tmp" \
  "$root/scripts/bench" --forks 2 --repetitions 2 --min-time 0.001 --runtimes c \
  --filter '^c/(control|direct|plt|dlopen)/(loop|noop|first_call)' >"$tmp/log" 2>&1 \
  || { cat "$tmp/log"; echo "0 passed, 1 failed"; exit 1; }

dirs=("$tmp"/*/)
check "one results folder" test ${#dirs[@]} -eq 1
dir=${dirs[0]%/}
check "folder named <UTC timestamp>-<host>" \
  bash -c '[[ "$(basename "$1")" =~ ^[0-9]{8}T[0-9]{6}Z-.+$ ]]' _ "$dir"
for f in c.json hyperfine.json icount.json provenance.json summary.txt summary.csv raw/forks.jsonl report.md; do
  check "$f written" test -s "$dir/$f"
done
check "benchmark names follow the scheme" /usr/bin/python3 - "$dir" <<'PY'
import json, re, sys
ok = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+/[a-z_]+(/[a-z_]+:[A-Za-z0-9_]+)*$")
names = [b["name"] for b in json.load(open(f"{sys.argv[1]}/c.json"))["benchmarks"]]
names += [b["name"] for b in json.load(open(f"{sys.argv[1]}/icount.json"))["benchmarks"]]
bad = [n for n in names if not ok.match(n)]
want = {"c/control/loop", "c/direct/noop", "c/plt/noop/threads:2", "c/dlopen/first_call"}
missing = want - set(names)
print("bad names:", bad[:5], "missing:", sorted(missing)) if bad or missing else None
sys.exit(1 if bad or missing else 0)
PY
check "every timed benchmark ran in 2 processes of 2 repetitions" /usr/bin/python3 - "$dir" <<'PY'
import collections, json, sys
runs = collections.defaultdict(collections.Counter)
for b in json.load(open(f"{sys.argv[1]}/c.json"))["benchmarks"]:
    if "first_call" not in b["name"]:
        runs[b["name"]][b["fork"]] += 1
bad = {n: dict(c) for n, c in runs.items() if dict(c) != {0: 2, 1: 2}}
print("not 2 x 2:", bad) if bad or not runs else None
sys.exit(1 if bad or not runs else 0)
PY
check "provenance has machine, build, source and command" /usr/bin/python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
sys.exit(0 if all(k in p for k in ("machine", "build", "source", "command", "toolchain", "libraries")) else 1)' "$dir/provenance.json"
check "hyperfine timed the three linking modes" /usr/bin/python3 -c '
import json, sys
names = [r["command"] for r in json.load(open(sys.argv[1]))["results"]]
sys.exit(0 if sorted(names) == ["c/direct/process", "c/dlopen/process", "c/plt/process"] else 1)' "$dir/hyperfine.json"
check "summary shows the control and the shims" grep -q "control loop" "$dir/summary.txt"
# Instruction counts are the deterministic metric: two counted runs must agree exactly.
"$build/bench/ffibench_dataset" "$tmp/data"
count() { # count N: a callgrind run of a few workloads into $tmp/icount-N.json
  mkdir -p "$tmp/cg$1"
  setarch "$(uname -m)" -R valgrind --tool=callgrind --skip-plt=no --instr-atstart=no \
    --callgrind-out-file="$tmp/cg$1/cg.%p" "$build/bench/ffibench_icount" "$tmp/data" \
    c/control/loop c/{direct,handle,marshal}/{noop,add/mode:latency,get/mode:latency} >/dev/null 2>&1 &&
    /usr/bin/python3 "$root/scripts/lib/icount.py" "$tmp/cg$1" "$tmp/icount-$1.json" >/dev/null
}
export -f count
check "callgrind counts identical in two runs" bash -c '
  count 1 && count 2 && /usr/bin/python3 - "$tmp/icount-1.json" "$tmp/icount-2.json" <<PY
import json, sys
a, b = ({r["name"]: r["per_op"] for r in json.load(open(p))["benchmarks"]} for p in sys.argv[1:3])
diff = {n: (a[n], b.get(n)) for n in a if a[n] != b.get(n)}
print("differ:", diff) if diff or not a else None
sys.exit(1 if diff or not a else 0)
PY'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
