// Package wl holds the data folder ($FFIBENCH_DATA, bench/dataset.h) as the Go bindings use it: the
// tables read from its files and the workload vocabulary read from its manifest.txt. Nothing here
// derives the data; nothing here calls libkv.
package wl

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrWrong is a workload's wrong answer: the run fails.
var ErrWrong = errors.New("wrong answer")

// Wrong reports a wrong answer with what was seen.
func Wrong(format string, args ...interface{}) error {
	return fmt.Errorf("%w: %s", ErrWrong, fmt.Sprintf(format, args...))
}

// AddSum checks add/mode:throughput's answer: acc, the sum of add(i, 1) for i < n (mod 2^32).
func AddSum(what string, acc uint32, n uint64) error {
	var want uint32
	for i := uint64(0); i < n; i++ {
		want += uint32(i) + 1
	}
	if acc != want {
		return Wrong("%s sum %d, want %d", what, acc, want)
	}
	return nil
}

// Workload is one "workload" line of manifest.txt: its parameter's name and values, and the engine
// operations per iteration (a number, or the parameter's name).
type Workload struct {
	Param  string
	Values []int
	Ops    string
}

// Data is the loaded data folder.
type Data struct {
	Dir                        string
	Keys, Miss, PutKeys        []byte // packed, KeyLen bytes each
	Order                      []uint32
	NKeys, NMiss, NPut, KeyLen int
	ValLen                     int
	Checksum                   string // the manifest's
	Workloads                  map[string]Workload
	// The vocabulary the loops use.
	ScanRecords, PutEvery int
	BytesSizes, BatchNs   []int
}

// Key is record i's key.
func (d *Data) Key(i uint32) []byte { return d.Keys[int(i)*d.KeyLen : int(i+1)*d.KeyLen] }

// Load reads dir's manifest and tables and checks the tables' sizes.
func Load(dir string) (*Data, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	facts := map[string][]string{}
	d := &Data{Dir: dir, Workloads: map[string]Workload{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if fields[0] == "workload" && len(fields) == 5 {
			w := Workload{Param: fields[2], Ops: fields[4]}
			if fields[3] != "-" {
				for _, v := range strings.Split(fields[3], ",") {
					n, err := strconv.Atoi(v)
					if err != nil {
						return nil, fmt.Errorf("manifest: workload %s: %v", fields[1], err)
					}
					w.Values = append(w.Values, n)
				}
			}
			d.Workloads[fields[1]] = w
		} else {
			facts[fields[0]] = fields[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	atoi := func(fact string, i int) int {
		if err != nil {
			return 0
		}
		v := facts[fact]
		if len(v) <= i {
			err = fmt.Errorf("manifest: no %s", fact)
			return 0
		}
		var n int
		n, err = strconv.Atoi(v[i])
		return n
	}
	table := func(fact string) ([]byte, int, int) {
		rows, width := atoi(fact, 1), atoi(fact, 2)
		if err != nil {
			return nil, 0, 0
		}
		var blob []byte
		blob, err = os.ReadFile(filepath.Join(dir, facts[fact][0]))
		if err == nil && len(blob) != rows*width {
			err = fmt.Errorf("%s: %d bytes, the manifest says %d x %d", facts[fact][0], len(blob), rows, width)
		}
		return blob, rows, width
	}
	d.Keys, d.NKeys, d.KeyLen = table("keys")
	d.Miss, d.NMiss, _ = table("miss")
	d.PutKeys, d.NPut, _ = table("put_keys")
	order, norder, width := table("order")
	d.ValLen = atoi("value_length", 0)
	if err != nil {
		return nil, err
	}
	if width != 4 || norder != d.NKeys {
		return nil, fmt.Errorf("order: %d x %d, want %d x 4", norder, width, d.NKeys)
	}
	d.Order = make([]uint32, norder)
	for i := range d.Order {
		d.Order[i] = binary.LittleEndian.Uint32(order[4*i:])
	}
	if c := facts["checksum"]; len(c) == 1 {
		d.Checksum = c[0]
	}
	one := func(name string) ([]int, error) {
		w, ok := d.Workloads[name]
		if !ok || len(w.Values) == 0 && w.Param != "-" {
			return nil, fmt.Errorf("manifest: no workload %s", name)
		}
		return w.Values, nil
	}
	var every []int
	if every, err = one("put"); err != nil {
		return nil, err
	}
	d.PutEvery = every[0]
	if d.BytesSizes, err = one("get"); err != nil {
		return nil, err
	}
	if d.BatchNs, err = one("batch"); err != nil {
		return nil, err
	}
	scan, ok := d.Workloads["scan/dir:upcall"]
	if !ok {
		return nil, errors.New("manifest: no workload scan/dir:upcall")
	}
	if d.ScanRecords, err = strconv.Atoi(scan.Ops); err != nil {
		return nil, fmt.Errorf("manifest: scan/dir:upcall: %v", err)
	}
	return d, nil
}

// Sum is FNV-1a 64 over keys, order (re-encoded as u32 little-endian), miss and put keys, as loaded.
func (d *Data) Sum() string {
	h := uint64(0xcbf29ce484222325)
	add := func(b []byte) {
		for _, c := range b {
			h = (h ^ uint64(c)) * 0x100000001b3
		}
	}
	add(d.Keys)
	var u [4]byte
	for _, o := range d.Order {
		binary.LittleEndian.PutUint32(u[:], o)
		add(u[:])
	}
	add(d.Miss)
	add(d.PutKeys)
	return fmt.Sprintf("fnv1a64:%016x", h)
}

// CopyBase copies the data set's base.kv to path: a mechanism's own copy (one open per file per
// process, and a put must not change what the next process reads).
func (d *Data) CopyBase(path string) error {
	b, err := os.ReadFile(filepath.Join(d.Dir, "base.kv"))
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Get32 reads a u32 little-endian.
func Get32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// Ctx is one workload's state in one thread: made by a binding's Setup on the thread that will run
// it (its transaction belongs to that OS thread), run by Run, ended by Close on that same thread.
type Ctx interface {
	Run(n uint64) error
	Close() error
}

// Binding is one mechanism open on its own copy of the data set.
type Binding interface {
	// Setup makes workload w (a name of manifest.txt, e.g. "get/mode:latency") with parameter param
	// ready on the calling OS thread, untimed.
	Setup(w string, param int) (Ctx, error)
	Close() error
}
