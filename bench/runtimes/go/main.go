// The Go runtime's worker for the ffibench driver (bench/runtimes/README.md is the protocol):
//
//	ffibench-go worker                    answers the driver's requests on stdin/stdout
//	ffibench-go worker first-call MECH    prints "LOAD_NS FIRST_NS SECOND_NS" and exits
//
// It holds no measurement method: the driver says how many iterations and repeats; this runs the
// bindings' loops (kvso: libkv.so; kva: libkv.a, built from kvso/ptr.go by ./build), reads the clocks
// around them and reports. Threads (README.md): the main goroutine is locked to the main OS thread
// from init on, so every single-threaded benchmark's transaction is begun, used and ended on one OS
// thread; the two threads of a /threads:2 benchmark are two goroutines, each locked to its own OS
// thread for as long as its context lives.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"ffibench/go/kva"
	"ffibench/go/kvso"
	"ffibench/go/wl"
)

// Set by ./build (-ldflags -X): the go build command line, for hello's runtime_flags.
var buildFlags = "?"

func init() { runtime.LockOSThread() }

// threadCPU is the calling thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID), a raw
// system call: the Go runtime has no API for it). The caller is locked to its OS thread.
func threadCPU() int64 {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return ts.Nano()
}

// The mechanisms: how each opens its binding on its own copy of the data set.
var mechanisms = []struct {
	name string
	open func(d *wl.Data, path string) (wl.Binding, error)
}{
	{"cgo-dynamic", func(d *wl.Data, p string) (wl.Binding, error) { return kvso.OpenPtr(d, p) }},
	{"cgo-static", func(d *wl.Data, p string) (wl.Binding, error) { return kva.OpenPtr(d, p) }},
	{"cgo-handle", func(d *wl.Data, p string) (wl.Binding, error) { return kvso.OpenHandle(d, p) }},
	{"cgo-marshal", func(d *wl.Data, p string) (wl.Binding, error) { return kvso.OpenMarshal(d, p) }},
}

type bench struct {
	name, mech, workload string
	param, ops, threads  int
}

// benches lists what each mechanism runs (README.md says why not everything everywhere: the full
// run's time budget). FFIBENCH_GO_SET: "calls" is the smaller list of the second Go version, "all"
// adds every other workload the bindings have (the sizes and batch sizes left out, and the
// secondary mechanisms' throughput, get, put and scan).
func benches(d *wl.Data, rt, set string) []bench {
	out := []bench{{name: rt + "/control/loop", mech: "control", workload: "loop", ops: 1, threads: 1}}
	add := func(mech, w string, param, ops, threads int, name string) {
		full := rt + "/" + mech + "/" + name
		if threads == 2 {
			full += "/threads:2"
		}
		out = append(out, bench{full, mech, w, param, ops, threads})
	}
	simple := func(mech string, names ...string) {
		for _, w := range names {
			add(mech, w, 0, 1, 1, w)
		}
	}
	put := fmt.Sprintf("put/commit_every:%d", d.PutEvery)
	if set == "calls" {
		simple("cgo-dynamic", "noop", "add/mode:latency", "get/mode:latency")
		add("cgo-dynamic", "noop", 0, 1, 2, "noop")
		add("cgo-dynamic", "scan/dir:upcall", 0, d.ScanRecords, 1, "scan/dir:upcall")
		simple("cgo-static", "add/mode:latency")
		simple("cgo-handle", "add/mode:latency")
		simple("cgo-marshal", "add/mode:latency")
		return out
	}
	simple("cgo-dynamic", "noop")
	add("cgo-dynamic", "noop", 0, 1, 2, "noop")
	simple("cgo-dynamic", "add/mode:latency", "add/mode:throughput", "get/mode:latency")
	add("cgo-dynamic", "get/mode:latency", 0, 1, 2, "get/mode:latency")
	simple("cgo-dynamic", "get/mode:throughput", "get_miss")
	add("cgo-dynamic", "put", d.PutEvery, 1, 1, put)
	for _, n := range every(d.BytesSizes, 2) { // 8, 512, 32768, 1048576 of the manifest's 7
		add("cgo-dynamic", "get/bytes", n, 1, 1, fmt.Sprintf("get/bytes:%d", n))
	}
	add("cgo-dynamic", "scan/dir:upcall", 0, d.ScanRecords, 1, "scan/dir:upcall")
	for _, n := range every(d.BatchNs, 2) { // 1, 16, 256, 1024 of the manifest's 6
		add("cgo-dynamic", "batch", n, n, 1, fmt.Sprintf("batch/n:%d", n))
	}
	simple("cgo-static", "noop", "add/mode:latency")
	simple("cgo-handle", "noop", "add/mode:latency", "get/mode:latency")
	add("cgo-handle", "scan/dir:upcall", 0, d.ScanRecords, 1, "scan/dir:upcall")
	simple("cgo-marshal", "noop", "add/mode:latency", "get/mode:latency")
	if set == "all" { // what the bindings have beyond the default list (README.md)
		listed := map[string]bool{}
		for _, b := range out {
			listed[b.name] = true
		}
		for _, n := range d.BytesSizes {
			if name := fmt.Sprintf("get/bytes:%d", n); !listed[rt+"/cgo-dynamic/"+name] {
				add("cgo-dynamic", "get/bytes", n, 1, 1, name)
			}
		}
		for _, n := range d.BatchNs {
			if name := fmt.Sprintf("batch/n:%d", n); !listed[rt+"/cgo-dynamic/"+name] {
				add("cgo-dynamic", "batch", n, n, 1, name)
			}
		}
		simple("cgo-static", "add/mode:throughput", "get/mode:latency")
		add("cgo-static", "scan/dir:upcall", 0, d.ScanRecords, 1, "scan/dir:upcall")
		simple("cgo-handle", "add/mode:throughput")
		add("cgo-handle", "put", d.PutEvery, 1, 1, put)
		simple("cgo-marshal", "add/mode:throughput")
	}
	return out
}

// every returns every k-th value of vs and the last one: a curve's shape with fewer points.
func every(vs []int, k int) []int {
	var out []int
	for i := 0; i < len(vs); i += k {
		out = append(out, vs[i])
	}
	if len(vs) > 0 && out[len(out)-1] != vs[len(vs)-1] {
		out = append(out, vs[len(vs)-1])
	}
	return out
}

// controlLoop is <runtime>/control/loop: the loops' for statement with nothing in it. Go's compiler
// keeps an empty counted loop (it has no loop deletion); noinline keeps it a call like the others.
//
//go:noinline
func controlLoop(n uint64) error {
	for i := uint64(0); i < n; i++ {
	}
	return nil
}

type control struct{}

func (control) Run(n uint64) error { return controlLoop(n) }
func (control) Close() error       { return nil }

// pair is the two locked goroutines of a /threads:2 benchmark, each with its context.
type pair struct {
	cmd [2]chan pairCmd
	res chan pairRes
}

type pairCmd struct {
	n     uint64 // 0: close the context and end
	start chan struct{}
}

type pairRes struct {
	t0, t1 time.Time
	cpu    int64
	err    error
}

func startPair(b wl.Binding, w string, param int) (*pair, error) {
	p := &pair{res: make(chan pairRes, 2)}
	for k := range p.cmd {
		p.cmd[k] = make(chan pairCmd)
		go func(cmd chan pairCmd) {
			runtime.LockOSThread() // the context's transaction belongs to this OS thread
			defer runtime.UnlockOSThread()
			ctx, err := b.Setup(w, param)
			p.res <- pairRes{err: err}
			if err != nil {
				return
			}
			for c := range cmd {
				if c.n == 0 {
					p.res <- pairRes{err: ctx.Close()}
					return
				}
				<-c.start
				c0, t0 := threadCPU(), time.Now()
				err := ctx.Run(c.n)
				t1 := time.Now()
				p.res <- pairRes{t0, t1, threadCPU() - c0, err}
			}
		}(p.cmd[k])
	}
	var err error
	for range p.cmd {
		if r := <-p.res; r.err != nil && err == nil {
			err = r.err
		}
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pair) run(n uint64) (wall, cpu int64, err error) {
	start := make(chan struct{})
	for _, c := range p.cmd {
		c <- pairCmd{n, start}
	}
	close(start)
	var first, last time.Time
	for k := range p.cmd {
		r := <-p.res
		if r.err != nil && err == nil {
			err = r.err
		}
		if k == 0 || r.t0.Before(first) {
			first = r.t0
		}
		if k == 0 || r.t1.After(last) {
			last = r.t1
		}
		cpu += r.cpu
	}
	return last.Sub(first).Nanoseconds(), cpu, err
}

func (p *pair) close() error {
	var err error
	for _, c := range p.cmd {
		select {
		case c <- pairCmd{}:
			if r := <-p.res; r.err != nil && err == nil {
				err = r.err
			}
		default: // that goroutine already ended (its setup failed)
		}
	}
	return err
}

type worker struct {
	rt      string
	d       *wl.Data
	list    []bench
	byName  map[string]bench
	opened  map[string]wl.Binding
	current string
	ctx     wl.Ctx
	pair    *pair
}

func newWorker(rt string) (*worker, error) {
	d, err := wl.Load(os.Getenv("FFIBENCH_DATA"))
	if err != nil {
		return nil, err
	}
	w := &worker{rt: rt, d: d, byName: map[string]bench{}, opened: map[string]wl.Binding{}}
	set := os.Getenv("FFIBENCH_GO_SET")
	if os.Getenv("FFIBENCH_LIST") == "all" {
		set = "all"
	}
	w.list = benches(d, rt, set)
	for _, b := range w.list {
		w.byName[b.name] = b
	}
	return w, nil
}

func (w *worker) hello() ([]string, error) {
	v := runtime.Version()
	if want := strings.TrimPrefix(w.rt, "go"); !strings.HasPrefix(v, "go"+want+".") && v != "go"+want {
		return nil, fmt.Errorf("runtime %s, but this program was built by %s", w.rt, v)
	}
	env := func(k string) string {
		if v, ok := os.LookupEnv(k); ok {
			return k + "=" + v
		}
		return k + " unset"
	}
	return []string{
		"context\truntime_name\tGo (gc) " + v + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"context\truntime_version\t" + strings.TrimPrefix(v, "go"),
		"context\truntime_flags\t" + buildFlags + "; " + env("GOGC") + "; " + env("GODEBUG") + "; GOMAXPROCS=" + strconv.Itoa(runtime.GOMAXPROCS(0)),
		"context\truntime_mode\tahead-of-time compiled (gc), cgo; the garbage collector on (the loops allocate nothing)",
		"context\tgo_compiler\t" + runtime.Compiler,
		"protocol\t1",
	}, nil
}

func (w *worker) listLines() []string {
	out := make([]string, 0, len(w.list)+len(mechanisms))
	for _, b := range w.list {
		out = append(out, fmt.Sprintf("bench\t%s\t%d\t%d", b.name, b.ops, b.threads))
	}
	for _, m := range firstCallMechs {
		out = append(out, "first-call\t"+m)
	}
	return out
}

func (w *worker) binding(mech string) (wl.Binding, error) {
	if b, ok := w.opened[mech]; ok {
		return b, nil
	}
	for _, m := range mechanisms {
		if m.name != mech {
			continue
		}
		path := filepath.Join(os.Getenv("FFIBENCH_SCRATCH"), mech+".kv")
		if err := w.d.CopyBase(path); err != nil {
			return nil, err
		}
		b, err := m.open(w.d, path)
		if err != nil {
			return nil, err
		}
		w.opened[mech] = b
		return b, nil
	}
	return nil, fmt.Errorf("no mechanism %s", mech)
}

// end closes the current benchmark's context(s), each on its own thread.
func (w *worker) end() error {
	var err error
	if w.ctx != nil {
		err = w.ctx.Close()
	}
	if w.pair != nil {
		if e := w.pair.close(); err == nil {
			err = e
		}
	}
	w.current, w.ctx, w.pair = "", nil, nil
	return err
}

func (w *worker) selectBench(name string) (bench, error) {
	b, ok := w.byName[name]
	if !ok {
		return b, fmt.Errorf("no benchmark %s", name)
	}
	if w.current == name {
		return b, nil
	}
	if err := w.end(); err != nil {
		return b, err
	}
	if b.mech == "control" {
		w.ctx = control{}
	} else {
		bind, err := w.binding(b.mech)
		if err != nil {
			return b, err
		}
		if b.threads == 2 {
			if w.pair, err = startPair(bind, b.workload, b.param); err != nil {
				return b, err
			}
		} else if w.ctx, err = bind.Setup(b.workload, b.param); err != nil {
			return b, err
		}
	}
	w.current = name
	return b, nil
}

func (w *worker) run(name, iterations, repeats string) ([]string, error) {
	n, err1 := strconv.ParseUint(iterations, 10, 64)
	r, err2 := strconv.Atoi(repeats)
	if err1 != nil || err2 != nil || n == 0 || r <= 0 {
		return nil, fmt.Errorf("bad iterations or repeats: %q %q", iterations, repeats)
	}
	b, err := w.selectBench(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, r)
	for k := 0; k < r; k++ {
		var wall, cpu int64
		if b.threads == 2 {
			if wall, cpu, err = w.pair.run(n); err != nil {
				return nil, err
			}
		} else {
			ctx := w.ctx
			c0 := threadCPU()
			t0 := time.Now()
			err = ctx.Run(n)
			wall = time.Since(t0).Nanoseconds()
			cpu = threadCPU() - c0
			if err != nil {
				return nil, err
			}
		}
		out = append(out, fmt.Sprintf("sample\t%d\t%d", wall, cpu))
	}
	return out, nil
}

func (w *worker) close() {
	w.end()
	for _, b := range w.opened {
		b.Close()
	}
}

func serve(rt string) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<16), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	var w *worker
	for in.Scan() {
		line := in.Text()
		if line == "quit" {
			break
		}
		var rows []string
		err := func() (err error) {
			defer func() { // a panic is an answer too
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			if w == nil {
				if w, err = newWorker(rt); err != nil {
					return err
				}
			}
			f := strings.Split(line, "\t")
			switch {
			case f[0] == "hello" && len(f) == 1:
				rows, err = w.hello()
			case f[0] == "list" && len(f) == 1:
				rows = w.listLines()
			case f[0] == "data" && len(f) == 1:
				rows = []string{"checksum\t" + w.d.Sum()}
			case f[0] == "run" && len(f) == 4:
				rows, err = w.run(f[1], f[2], f[3])
			default:
				err = fmt.Errorf("bad request %q", line)
			}
			return err
		}()
		if err != nil {
			fmt.Fprintf(out, "error\t%s\n", strings.NewReplacer("\n", " ", "\t", " ").Replace(err.Error()))
		} else {
			for _, r := range rows {
				out.WriteString(r + "\n")
			}
			out.WriteString("ok\n")
		}
		out.Flush()
	}
	if w != nil {
		w.close()
	}
}

var firstCallMechs = []string{"cgo-dynamic", "cgo-static", "cgo-handle", "cgo-marshal"}

// firstCall is first-call mode. Nothing is loaded at run time (cgo links libkv: the dynamic loader
// maps libkv.so before main), so LOAD is 0, as for the C suite's static and PLT programs — except for
// the handle ABI, whose kvh_add needs an open environment first (LOAD is that open).
func firstCall(mech string) int {
	t0 := time.Now()
	var load, first, second time.Duration
	var err error
	switch mech {
	case "none":
		return 0
	case "cgo-dynamic":
		first, second, err = kvso.FirstCall()
	case "cgo-static":
		first, second, err = kva.FirstCall()
	case "cgo-marshal":
		first, second, err = kvso.MarshalFirstCall()
	case "cgo-handle":
		dir := os.Getenv("FFIBENCH_SCRATCH")
		if dir == "" { // hyperfine's whole-process runs, outside a fork's scratch folder
			if dir, err = os.MkdirTemp("", "ffibench-go-"); err != nil {
				break
			}
			defer os.RemoveAll(dir)
		}
		load, first, second, err = kvso.HandleFirstCall(t0, filepath.Join(dir, "first-call.kv"))
	default:
		err = errors.New("no mechanism " + mech + " (there are: " + strings.Join(firstCallMechs, ", ") + ", none)")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "first-call:", err)
		return 1
	}
	fmt.Printf("%d %d %d\n", load.Nanoseconds(), first.Nanoseconds(), second.Nanoseconds())
	return 0
}

func main() {
	rt := os.Getenv("FFIBENCH_GO_RUNTIME")
	if rt == "" {
		rt = "go" + strings.Join(strings.SplitN(strings.TrimPrefix(runtime.Version(), "go"), ".", 3)[:2], ".")
	}
	args := os.Args[1:]
	switch {
	case len(args) == 1 && args[0] == "worker":
		serve(rt)
	case len(args) == 3 && args[0] == "worker" && args[1] == "first-call":
		os.Exit(firstCall(args[2]))
	default:
		fmt.Fprintln(os.Stderr, "usage: ffibench-go worker [first-call MECHANISM|none]")
		os.Exit(2)
	}
}
