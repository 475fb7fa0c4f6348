// ffibench_c — google-benchmark harness for the C shims: every row of the shim table (plus the raw
// LMDB baseline) × every workload of workloads.h, registered from those two tables.
//
// Names: c/<shim>/<workload>[/<tag>][/<param>:<value>][/threads:2]; the control is c/control/loop.
// Timing: each benchmark runs its workload's loop in batches (KeepRunningBatch), so the loop being
// timed is the shared C loop, the same one the control and the instruction counter run.
//
// Own flags (everything else is google-benchmark's):
//   --ffibench_data=DIR     where the data set and the per-shim copies go (default: a temp folder)
//   --ffibench_total=N      runs expected, for the progress line (the bench script passes it)
//   --ffibench_allow_debug  benchmark a build with assertions (refused otherwise)
//   --ffibench_validate     measure the validation rows instead (validate_rows.c): direct and its
//                           A/A twin on every workload, the delay variants on noop
// Exit status: 0; 2 for bad arguments or a refused build; 3 when a benchmark failed (it was
// reported and skipped, and the rest ran).
#include <benchmark/benchmark.h>

#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

struct Row {
  const kvs_shim *shim;
  kvs_obj env;
};

std::string ErrorText(const char *what, int rc) {
  if (rc == WL_WRONG_ANSWER) return std::string(what) + ": wrong answer";
  return std::string(what) + ": " + kv_err_name(rc) + " (" + kv_last_error() + ")";
}

void RunWorkload(benchmark::State &st, const Row *row, const wl_def *w, size_t param) {
  wl_ctx c;
  int rc = w->setup(&c, row->shim, row->env, param);
  if (rc != 0) {
    st.SkipWithError(ErrorText("setup", rc).c_str());
    return;
  }
  const benchmark::IterationCount batch = static_cast<benchmark::IterationCount>(wl_batch_size(w, param));
  while (st.KeepRunningBatch(batch)) {
    if ((rc = w->run(&c, static_cast<uint64_t>(batch))) != 0) {
      st.SkipWithError(ErrorText("run", rc).c_str());
      break;
    }
  }
  w->teardown(&c);
  // Engine operations per iteration (scan: records, batch: n), for per-operation figures.
  st.counters["ops"] = benchmark::Counter(static_cast<double>(wl_ops(w, param)),
                                          benchmark::Counter::kAvgThreads);
}

void Register(const Row &row, const wl_def &w, size_t param) {
  char name[256];
  wl_name(name, sizeof name, row.shim, &w, param);
  const Row *r = &row;
  const wl_def *wp = &w;
  benchmark::RegisterBenchmark(name, [r, wp, param](benchmark::State &st) {
    RunWorkload(st, r, wp, param);
  })->Unit(benchmark::kNanosecond);
  if (w.threads) // the 1-thread run is the plain name; google-benchmark appends /threads:2
    benchmark::RegisterBenchmark(name, [r, wp, param](benchmark::State &st) {
      RunWorkload(st, r, wp, param);
    })->Unit(benchmark::kNanosecond)->Threads(2);
}

// Progress on stderr after each run: how many done, of how many, elapsed.
class ProgressReporter : public benchmark::ConsoleReporter {
 public:
  explicit ProgressReporter(long total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &run : runs) {
      if (run.run_type == Run::RT_Iteration) done_++;
      if (run.error_occurred) failed_.push_back(run.benchmark_name() + ": " + run.error_message);
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (total_ > 0)
      std::fprintf(stderr, "  [%ld/%ld runs, %.0f s elapsed] %s\n", done_, total_, s,
                   runs.empty() ? "" : runs.back().benchmark_name().c_str());
    else
      std::fprintf(stderr, "  [%ld runs, %.0f s elapsed]\n", done_, s);
  }
  const std::vector<std::string> &failed() const { return failed_; }

 private:
  long total_, done_ = 0;
  std::vector<std::string> failed_;
  std::chrono::steady_clock::time_point start_;
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

}  // namespace

int main(int argc, char **argv) {
  std::string data_dir;
  long total = 0;
  bool allow_debug = false, file_out = false, validate = false;
  int kept = 1;
  for (int i = 1; i < argc; i++) { // take our flags out; google-benchmark rejects unknown ones
    const std::string a = argv[i];
    if (a.rfind("--ffibench_data=", 0) == 0) data_dir = a.substr(16);
    else if (a.rfind("--ffibench_total=", 0) == 0) total = std::atol(a.c_str() + 17);
    else if (a == "--ffibench_allow_debug") allow_debug = true;
    else if (a == "--ffibench_validate") validate = true;
    else argv[kept++] = argv[i];
    if (a.rfind("--benchmark_out=", 0) == 0) file_out = true;
  }
  argc = kept;
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

  if (data_dir.empty()) {
    const char *tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ffibench-data-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    data_dir = buf.data();
  }
  const std::string base = data_dir + "/base.kv";
  int rc = wl_dataset_create(base.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "ffibench_c: cannot create the data set: %s\n", kv_last_error());
    return 1;
  }

  // Every shim row, then the raw-LMDB baseline (or, with --ffibench_validate, direct and its
  // variants). A row that cannot start is reported and skipped.
  kvs_shim variants[8];
  const kvs_shim *shims[16];
  size_t nshims = std::min<size_t>(wl_rows(shims, 16), 16);
  if (validate) {
    const size_t nv = std::min<size_t>(wl_validate_rows(variants, 8), 8);
    shims[0] = &kvs_shim_direct;
    for (size_t i = 0; i < nv; i++) shims[1 + i] = &variants[i];
    nshims = 1 + nv;
  }
  std::vector<Row> rows;
  rows.reserve(nshims);
  std::string skipped;
  for (size_t i = 0; i < nshims; i++) {
    const char *why = "";
    kvs_obj env = 0;
    if ((rc = wl_open_row(shims[i], data_dir.c_str(), &env, &why)) != 0) {
      std::fprintf(stderr, "ffibench_c: skipping shim %s: %s %s\n", shims[i]->name, kv_err_name(rc), why);
      skipped += std::string(skipped.empty() ? "" : ", ") + shims[i]->name;
      continue;
    }
    rows.push_back(Row{shims[i], env});
  }
  if (rows.empty()) return 1;

  benchmark::RegisterBenchmark("c/control/loop", [&rows](benchmark::State &st) {
    RunWorkload(st, &rows[0], &wl_loop, 0);
  })->Unit(benchmark::kNanosecond);
  for (const Row &row : rows)
    for (size_t i = 0; i < wl_count; i++) {
      const wl_def &w = wl_defs[i];
      if (!wl_supported(&w, row.shim)) continue;
      // The delay variants differ from direct only in noop; anything else would repeat direct.
      if (std::strstr(row.shim->name, "_delay") && std::strcmp(w.name, "noop") != 0) continue;
      if (!w.param_name) Register(row, w, 0);
      else
        for (const size_t *p = w.params; *p; p++) Register(row, w, *p);
    }

  benchmark::AddCustomContext("ffibench.kv_version", kv_version_string());
  benchmark::AddCustomContext("ffibench.lmdb_version", mdb_version(nullptr, nullptr, nullptr));
  benchmark::AddCustomContext("ffibench.build_type", FFIBENCH_BUILD_TYPE);
  benchmark::AddCustomContext("ffibench.c_flags", FFIBENCH_C_FLAGS);
  benchmark::AddCustomContext("ffibench.compiler", __VERSION__);
  benchmark::AddCustomContext("ffibench.durability", "nosync (KV_DURABLE_NOSYNC) for every write");
  benchmark::AddCustomContext("ffibench.time_field", "real_time (per iteration; divide by counter ops)");
  benchmark::AddCustomContext("ffibench.skipped_shims", skipped.empty() ? "none" : skipped);

  ProgressReporter display(total);
  FlushingJSONReporter file;
  if (file_out) benchmark::RunSpecifiedBenchmarks(&display, &file);
  else benchmark::RunSpecifiedBenchmarks(&display);
  benchmark::Shutdown();
  for (const Row &row : rows) row.shim->env_close(row.env);
  // A failed benchmark was reported and skipped and the others ran; the exit status says so.
  for (const std::string &f : display.failed()) std::fprintf(stderr, "ffibench_c: FAILED %s\n", f.c_str());
  return display.failed().empty() ? 0 : 3;
}
