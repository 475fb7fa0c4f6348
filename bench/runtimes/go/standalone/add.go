// The simplest standalone loop for kv_add through cgo, sharing no code with the worker: x =
// C.kv_add(x, 1) in a for loop, timed with time.Now around it. The cross-check of
// go1.X/cgo-dynamic/add/mode:latency (--validate). Prints the median of 5 rounds of 5e6 calls, in ns
// per call, loop included. Built against libkv.so by ../build, once per Go version.
package main

// #include "kv.h"
import "C"

import (
	"fmt"
	"os"
	"sort"
	"time"
)

func main() {
	const n, rounds = 5_000_000, 5
	ns := make([]float64, rounds)
	x := C.int(0)
	for r := range ns {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			x = C.kv_add(x, 1)
		}
		ns[r] = float64(time.Since(t0).Nanoseconds()) / n
	}
	if x != n*rounds {
		os.Exit(1)
	}
	sort.Float64s(ns)
	fmt.Printf("%.4f\n", ns[rounds/2])
}
