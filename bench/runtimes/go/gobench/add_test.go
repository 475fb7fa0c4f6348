package gobench

import "testing"

var sink int

// BenchmarkAdd: b.N chained kv_add calls; its ns/op is the ns per call, loop included.
func BenchmarkAdd(b *testing.B) {
	x := AddLoop(0, b.N)
	if x != b.N {
		b.Fatalf("kv_add chain ended at %d, want %d", x, b.N)
	}
	sink = x
}
