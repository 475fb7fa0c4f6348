// Package gobench is Go's own benchmark harness (testing.B, `go test -bench`) over kv_add: the
// ecosystem's cross-check of go1.X/cgo-dynamic/add/mode:latency. cgo is not allowed in a _test.go
// file, so the loop over b.N calls sits here, in AddLoop, and add_test.go's BenchmarkAdd runs it.
// It shares no code with the worker.
package gobench

// #include "kv.h"
import "C"

// AddLoop makes n chained calls x = kv_add(x, 1) from x0 and returns x.
func AddLoop(x0, n int) int {
	x := C.int(x0)
	for i := 0; i < n; i++ {
		x = C.kv_add(x, 1)
	}
	return int(x)
}
