# common.sh — what ./scripts/test and ./scripts/bench share: Debian package checks and the build.
# Sourced, not run. Callers set -euo pipefail.

FFIBENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What the analysis scripts need (report, compare, validate): Debian's python3 with its own
# numpy, scipy and matplotlib (they belong to /usr/bin/python3, not to any other python3 on PATH).
FFIBENCH_ANALYSIS_PACKAGES=(python3 python3-numpy python3-scipy python3-matplotlib)

# Debian packages every build needs: compiler, CMake, Ninja, LMDB, google-benchmark, hyperfine,
# valgrind for instruction counts, clang and its runtime for the fuzzers, and the analysis set.
FFIBENCH_PACKAGES=(build-essential cmake ninja-build pkg-config liblmdb-dev libbenchmark-dev
                   hyperfine valgrind clang-14 libclang-rt-14-dev "${FFIBENCH_ANALYSIS_PACKAGES[@]}")

# What the browser test needs (tests/browser/): Debian's Chromium, which also makes each results
# folder's report.png, and Node.js for playwright-core (pinned in tests/browser/package-lock.json).
FFIBENCH_BROWSER_PACKAGES=(chromium nodejs)

# ffibench_browser_setup: the browser test's Debian packages (npm too, where no npm came with
# nodejs), then playwright-core into tests/browser/node_modules with `npm ci`: exactly the locked
# version, nothing else downloaded (playwright-core fetches no browser; it drives /usr/bin/chromium).
ffibench_browser_setup() {
  ffibench_require_packages "${FFIBENCH_BROWSER_PACKAGES[@]}"
  command -v npm >/dev/null || ffibench_require_packages npm
  ffibench_log "installing playwright-core (tests/browser, npm ci)"
  ( cd "$FFIBENCH_ROOT/tests/browser" &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null )
}

# The Debian packages the runtimes need (bench/runtimes/*/packages: one per line, # comments and
# blank lines allowed; a file may hold only comments). Every file is read, whatever the one before held.
# A line PKG/SUITE (golang-1.23-go/bookworm-backports) takes PKG from that suite of the same Debian
# mirror: ffibench_require_packages adds the suite's apt source if no source names it yet.
ffibench_runtime_packages() {
  local f
  for f in "${FFIBENCH_RUNTIMES_DIR:-$FFIBENCH_ROOT/bench/runtimes}"/*/packages; do
    [ -f "$f" ] || continue
    sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$f"
  done
}

# ffibench_usage SCRIPT: the comment block at the top of SCRIPT (after its #! line), as help text.
ffibench_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"
}

# The environment a runtime harness gets (bench/runtimes/README.md): ffibench_runtime_env BUILD_DIR
ffibench_runtime_env() {
  export KV_BUILD_DIR=$1
  export KV_LIBRARY
  KV_LIBRARY=$(readlink -f "$1/engine/libkv.so")
  export KV_INCLUDE="$FFIBENCH_ROOT/engine/include"
}

ffibench_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ffibench_require_packages PKG...: installs the missing ones with apt-get when root; otherwise
# prints the exact command and stops.
ffibench_require_packages() {
  local missing=() p
  for p in $(printf '%s\n' "$@" | sort -u); do # each once, however many lists name it
    dpkg-query -W -f='${Status}' "${p%%/*}" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    for p in "${missing[@]}"; do [ "$p" = "${p#*/}" ] || ffibench_apt_suite "${p#*/}"; done
    ffibench_log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "ffibench needs these Debian packages: ${missing[*]}" >&2
    echo "install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# ffibench_apt_suite SUITE: an apt source for SUITE (e.g. bookworm-backports, main component) on the
# mirror the system's own Debian source uses, unless a source already names SUITE. Root only.
ffibench_apt_suite() {
  local suite=$1 dir=/etc/apt/sources.list.d uri f
  for f in /etc/apt/sources.list "$dir"/*.list "$dir"/*.sources; do # a word of a line, not a comment
    [ -f "$f" ] && awk -v s="$suite" '{ sub(/#.*/, ""); for (i = 1; i <= NF; i++) if ($i == s) found = 1 }
                                      END { exit !found }' "$f" && return 0
  done
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$dir"/*.sources 2>/dev/null | grep -m1 '/debian/\?$' ||
        sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null |
          grep -m1 '/debian/\?$') || { echo "ffibench: no Debian source to add $suite beside" >&2; exit 1; }
  ffibench_log "adding the apt source $suite ($uri)"
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" "$suite" >"$dir/ffibench-$suite.sources"
}

# ffibench_build PRESET: configures (once) and builds a CMake preset.
ffibench_build() {
  local preset=$1
  ffibench_log "building ($preset)"
  cmake --preset "$preset" -S "$FFIBENCH_ROOT" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
}
