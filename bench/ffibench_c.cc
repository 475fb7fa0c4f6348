// ffibench_c — google-benchmark harness for the C rows: every row (the shim table, the raw-LMDB
// baseline) × every workload of the table in workloads.c.
//
// Names: c/<row>/<workload>[/<param>:<value>][/threads:2]; the control is c/control/loop.
// Timing: each benchmark runs its workload's loop in batches (KeepRunningBatch), so the loop being
// timed is the workload's own C loop, the same one the control and the instruction counter run.
// The driver (bench/driver) starts one process per benchmark and fork, with
// --benchmark_filter='^NAME$'; run by hand, it runs whatever the filter selects, in one process.
// A row's environment is opened when its first benchmark starts, so a process opens only the rows
// it measures.
//
// Own flags (everything else is google-benchmark's):
//   --ffibench_data=DIR     the data folder (dataset.h); created there when it holds none
//                           (default: a new temporary folder)
//   --ffibench_scratch=DIR  where each row's copy of the database goes (default: a new temporary
//                           folder, removed at exit)
//   --ffibench_list         print every benchmark as `bench<TAB>NAME<TAB>OPS<TAB>THREADS` and exit
//                           (the worker protocol's list, bench/runtimes/README.md)
//   --ffibench_allow_debug  benchmark a build with assertions (refused otherwise)
//   --ffibench_validate     the validation rows instead (validate_rows.c): direct, its A/A twin on
//                           every workload, the delay variants on noop
// Exit status: 0; 2 for bad arguments or a refused build; 3 when a benchmark failed (it was
// reported and skipped, and the rest ran).
#include <benchmark/benchmark.h>

#include <lmdb.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

extern "C" {
#include "workloads.h"
}

#ifndef FFIBENCH_BUILD_TYPE
#define FFIBENCH_BUILD_TYPE "unknown"
#endif
#ifndef FFIBENCH_C_FLAGS
#define FFIBENCH_C_FLAGS "unknown"
#endif

namespace {

// A row's environment, opened by the first benchmark that needs it (from whichever thread).
struct OpenRow {
  const wl_row *row = nullptr;
  std::once_flag once;
  kvs_obj env = 0;
  int rc = 0;
  std::string why;
};

std::string g_scratch;

std::string ErrorText(const char *what, int rc) {
  if (rc == WL_WRONG_ANSWER) return std::string(what) + ": wrong answer";
  return std::string(what) + ": " + kv_err_name(rc) + " (" + kv_last_error() + ")";
}

void RunWorkload(benchmark::State &st, OpenRow *r, const wl_bench *b) {
  std::call_once(r->once, [r] {
    const char *why = "";
    r->rc = wl_open_row(r->row, g_scratch.c_str(), &r->env, &why);
    r->why = why;
  });
  if (r->rc != 0) {
    st.SkipWithError(("opening the row: " + std::string(kv_err_name(r->rc)) + " " + r->why).c_str());
    return;
  }
  wl_ctx c;
  int rc = b->def->setup(&c, r->row->shim, r->env, b->param);
  if (rc != 0) {
    st.SkipWithError(ErrorText("setup", rc).c_str());
    return;
  }
  const auto batch = static_cast<benchmark::IterationCount>(b->batch);
  while (st.KeepRunningBatch(batch)) {
    if ((rc = WL_RUN(b)(&c, static_cast<uint64_t>(batch))) != 0) {
      st.SkipWithError(ErrorText("run", rc).c_str());
      break;
    }
  }
  b->def->teardown(&c);
  // Engine operations per iteration (scan: records, batch: n), for per-operation figures.
  st.counters["ops"] = benchmark::Counter(static_cast<double>(b->ops), benchmark::Counter::kAvgThreads);
}

// Failed benchmarks, for the exit status: the console reporter prints them, this remembers them.
class FailureCountingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &run : runs)
      if (run.error_occurred) failed_.push_back(run.benchmark_name() + ": " + run.error_message);
  }
  const std::vector<std::string> &failed() const { return failed_; }

 private:
  std::vector<std::string> failed_;
};

// The JSON file reporter, flushed after every run, so an interrupted run (Ctrl-C) leaves every
// result measured so far on disk; scripts/lib/results.py closes the cut-off file when it reads it.
class FlushingJSONReporter : public benchmark::JSONReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override {
    JSONReporter::ReportRuns(runs);
    GetOutputStream().flush();
  }
};

std::string TempDir(const char *what) {
  const char *tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ffibench-" + what + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return buf.data();
}

}  // namespace

int main(int argc, char **argv) {
  std::string data_dir;
  bool allow_debug = false, file_out = false, validate = false, list = false;
  int kept = 1;
  for (int i = 1; i < argc; i++) { // take our flags out; google-benchmark rejects unknown ones
    const std::string a = argv[i];
    if (a.rfind("--ffibench_data=", 0) == 0) data_dir = a.substr(16);
    else if (a.rfind("--ffibench_scratch=", 0) == 0) g_scratch = a.substr(19);
    else if (a == "--ffibench_allow_debug") allow_debug = true;
    else if (a == "--ffibench_validate") validate = true;
    else if (a == "--ffibench_list") list = true;
    else argv[kept++] = argv[i];
    if (a.rfind("--benchmark_out=", 0) == 0) file_out = true;
  }
  argc = kept;

  size_t nrows = 0, nbenches = 0;
  const wl_row *rows = validate ? wl_validate_rows(&nrows) : wl_rows(&nrows);
  std::unique_ptr<wl_bench, decltype(&std::free)> benches(wl_benches(rows, nrows, &nbenches), &std::free);
  if (!benches) return 1;
  if (list) {
    for (size_t i = 0; i < nbenches; i++) {
      const wl_bench &b = benches.get()[i];
      std::printf("bench\t%s%s\t%zu\t%d\n", b.name, b.threads > 1 ? "/threads:2" : "", b.ops, b.threads);
    }
    std::printf("ok\n");
    return 0;
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
#ifndef NDEBUG
  if (!allow_debug) {
    std::fprintf(stderr, "ffibench_c: this is a build with assertions (%s); benchmark a Release "
                         "build (cmake --preset release) or pass --ffibench_allow_debug\n",
                 FFIBENCH_BUILD_TYPE);
    return 2;
  }
#else
  (void)allow_debug;
#endif

  if (data_dir.empty()) data_dir = TempDir("data");
  if (!wl_data_exists(data_dir.c_str()) && wl_data_create(data_dir.c_str()) != 0) {
    std::fprintf(stderr, "ffibench_c: cannot create the data set in %s\n", data_dir.c_str());
    return 1;
  }
  const char *why = "";
  if (wl_use_data(data_dir.c_str(), &why) != 0) {
    std::fprintf(stderr, "ffibench_c: %s\n", why);
    return 1;
  }
  const bool own_scratch = g_scratch.empty();
  if (own_scratch) g_scratch = TempDir("scratch");

  std::vector<OpenRow> open(nrows);
  for (size_t r = 0; r < nrows; r++) open[r].row = &rows[r];
  for (size_t i = 0; i < nbenches; i++) {
    const wl_bench *b = &benches.get()[i];
    OpenRow *r = &open[static_cast<size_t>(b->row - rows)];
    auto *bm = benchmark::RegisterBenchmark(b->name, [r, b](benchmark::State &st) { RunWorkload(st, r, b); });
    bm->Unit(benchmark::kNanosecond);
    if (b->threads > 1) bm->Threads(b->threads); // google-benchmark appends /threads:2 to the name
  }

  char checksum[32];
  std::snprintf(checksum, sizeof checksum, "fnv1a64:%016llx", static_cast<unsigned long long>(wl_data_get()->checksum));
  benchmark::AddCustomContext("ffibench.kv_version", kv_version_string());
  benchmark::AddCustomContext("ffibench.lmdb_version", mdb_version(nullptr, nullptr, nullptr));
  benchmark::AddCustomContext("ffibench.build_type", FFIBENCH_BUILD_TYPE);
  benchmark::AddCustomContext("ffibench.c_flags", FFIBENCH_C_FLAGS);
  benchmark::AddCustomContext("ffibench.compiler", __VERSION__);
  benchmark::AddCustomContext("ffibench.dataset_checksum", checksum);

  FailureCountingReporter display;
  FlushingJSONReporter file;
  if (file_out) benchmark::RunSpecifiedBenchmarks(&display, &file);
  else benchmark::RunSpecifiedBenchmarks(&display);
  benchmark::Shutdown();
  for (OpenRow &r : open)
    if (r.env) r.row->shim->env_close(r.env);
  if (own_scratch) {
    std::error_code ec;
    std::filesystem::remove_all(g_scratch, ec);
  }
  // A failed benchmark was reported and skipped and the others ran; the exit status says so.
  for (const std::string &f : display.failed()) std::fprintf(stderr, "ffibench_c: FAILED %s\n", f.c_str());
  return display.failed().empty() ? 0 : 3;
}
