package kvso

// ptr.go — the plain pointer API (kv.h) through cgo: every loop calls C.kv_* directly, so the timed
// code is cgo's own call sequence (the Go-side wrapper cgo generates, runtime.cgocall's switch to the
// system stack, then the call into libkv). ./build also compiles this file, renamed, into the
// package kva against a copy of libkv.a (the mechanism cgo-static): edit it as a template, where every
// call of a kv.h function is written `C.kv_NAME(` and the exported callback's name is ffibenchScanPtr.

/*
#include <stdlib.h>
#include "kv.h"
extern int ffibenchScanPtr(void *key, size_t key_len, void *val, size_t val_len, void *payload);
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"

	"ffibench/go/wl"
)

// Ptr is the pointer API's binding, open on its own copy of the data set.
type Ptr struct {
	d   *wl.Data
	env *C.kv_env
}

// ptrErr is nil for rc 0, else lastError's.
func ptrErr(what string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return lastError(what, rc)
}

// lastError names the engine's status rc and the calling thread's last error message (read right
// after the call, on the same OS thread); the handle and marshal ABIs' errors too.
func lastError(what string, rc C.int) error {
	var buf [512]C.char
	C.kv_last_error_r(&buf[0], C.size_t(len(buf)))
	return fmt.Errorf("%s: %s (%s)", what, C.GoString(C.kv_err_name(rc)), C.GoString(&buf[0]))
}

// suiteOptions are the suite's environment options, for every ABI: no-sync, a 1 GiB map.
func suiteOptions() (C.kv_options, error) {
	var o C.kv_options
	if rc := C.kv_options_init(&o); rc != 0 {
		return o, ptrErr("kv_options_init", rc)
	}
	o.durability = C.KV_DURABLE_NOSYNC
	o.map_size = 1 << 30
	return o, nil
}

// OpenPtr opens path (a fresh copy of base.kv) with the suite's options.
func OpenPtr(d *wl.Data, path string) (*Ptr, error) {
	o, err := suiteOptions()
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	b := &Ptr{d: d}
	if rc := C.kv_env_open(&b.env, cpath, &o); rc != 0 {
		return nil, ptrErr("kv_env_open", rc)
	}
	return b, nil
}

// Close closes the environment (every context closed first).
func (b *Ptr) Close() error { return ptrErr("kv_env_close", C.kv_env_close(b.env)) }

type ptrCtx struct {
	b     *Ptr
	d     *wl.Data
	txn   *C.kv_txn
	param int
	chain uint64 // latency chain / position, carried across runs
	done  uint64 // puts so far (the commit interval)
	buf   []byte
	keys  []byte // batch: packed keys; bytes: the record's key
	klens []C.size_t
	vlens []C.size_t
	run   func(n uint64) error
}

// Setup makes workload w ready on the calling OS thread: its transaction belongs to that thread.
func (b *Ptr) Setup(w string, param int) (wl.Ctx, error) {
	c := &ptrCtx{b: b, d: b.d, param: param}
	txnFlags, cap := -1, 0
	switch w {
	case "noop":
		c.run = c.noop
	case "add/mode:latency":
		c.run = c.addLatency
	case "add/mode:throughput":
		c.run = c.addThroughput
	case "get/mode:latency":
		c.run, txnFlags, cap = c.getLatency, C.KV_TXN_READ, b.d.ValLen
	case "get/mode:throughput":
		c.run, txnFlags, cap = c.getThroughput, C.KV_TXN_READ, b.d.ValLen
	case "get_miss":
		c.run, txnFlags, cap = c.getMiss, C.KV_TXN_READ, b.d.ValLen
	case "get/bytes":
		c.run, txnFlags, cap = c.bytes, C.KV_TXN_READ, param
		c.keys = []byte(fmt.Sprintf("bytes:%d", param))
	case "put":
		c.run, txnFlags, cap = c.put, C.KV_TXN_WRITE, b.d.ValLen
	case "scan/dir:upcall":
		c.run, txnFlags = c.scan, C.KV_TXN_READ
	case "batch":
		c.run, txnFlags, cap = c.batch, C.KV_TXN_READ, param*b.d.ValLen
		c.keys = make([]byte, param*b.d.KeyLen)
		c.klens, c.vlens = make([]C.size_t, param), make([]C.size_t, param)
		for i := range c.klens {
			c.klens[i] = C.size_t(b.d.KeyLen)
		}
	default:
		return nil, fmt.Errorf("no workload %s", w)
	}
	if cap > 0 {
		c.buf = make([]byte, cap)
	}
	if txnFlags >= 0 {
		if rc := C.kv_txn_begin(&c.txn, b.env, C.uint(txnFlags)); rc != 0 {
			return nil, ptrErr("kv_txn_begin", rc)
		}
	}
	return c, nil
}

func (c *ptrCtx) Run(n uint64) error { return c.run(n) }

// Close ends the context's transaction (put commits what it wrote) on its own thread.
func (c *ptrCtx) Close() error {
	if c.txn == nil {
		return nil
	}
	var rc C.int
	if C.kv_txn_is_write(c.txn) == 1 {
		rc = C.kv_txn_commit(c.txn)
	} else {
		rc = C.kv_txn_abort(c.txn)
	}
	if rc2 := C.kv_txn_free(c.txn); rc == 0 {
		rc = rc2
	}
	c.txn = nil
	return ptrErr("ending the transaction", rc)
}

func (c *ptrCtx) noop(n uint64) error {
	for i := uint64(0); i < n; i++ {
		C.kv_noop()
	}
	return nil
}

func (c *ptrCtx) addLatency(n uint64) error {
	x := C.int(int32(uint32(c.chain))) // each call takes the previous result
	for i := uint64(0); i < n; i++ {
		x = C.kv_add(x, 1)
	}
	want := int32(uint32(c.chain + n))
	c.chain += n
	if int32(x) != want {
		return wl.Wrong("kv_add chain ended at %d, want %d", x, want)
	}
	return nil
}

func (c *ptrCtx) addThroughput(n uint64) error {
	var acc uint32 // independent calls; the results are only summed
	for i := uint64(0); i < n; i++ {
		acc += uint32(C.kv_add(C.int(int32(i)), 1))
	}
	return wl.AddSum("kv_add", acc, n)
}

func (c *ptrCtx) getLatency(n uint64) error {
	txn, keys, klen, buf := c.txn, c.d.Keys, c.d.KeyLen, c.buf
	vlen := c.d.ValLen
	var ln C.size_t
	i := uint32(c.chain) // the next key comes out of the value just read
	for k := uint64(0); k < n; k++ {
		rc := C.kv_get(txn, unsafe.Pointer(&keys[int(i)*klen]), C.size_t(klen), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &ln)
		if rc != 0 {
			return ptrErr("kv_get", rc)
		}
		if int(ln) != vlen || wl.Get32(buf[4:]) != i {
			return wl.Wrong("kv_get of key %d: %d bytes, record %d", i, ln, wl.Get32(buf[4:]))
		}
		i = wl.Get32(buf)
	}
	c.chain = uint64(i)
	return nil
}

func (c *ptrCtx) getThroughput(n uint64) error {
	txn, keys, klen, buf, order := c.txn, c.d.Keys, c.d.KeyLen, c.buf, c.d.Order
	vlen, nkeys := c.d.ValLen, uint64(c.d.NKeys)
	var ln C.size_t
	at := c.chain
	for k := uint64(0); k < n; k++ {
		i := order[at%nkeys]
		at++
		rc := C.kv_get(txn, unsafe.Pointer(&keys[int(i)*klen]), C.size_t(klen), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &ln)
		if rc != 0 {
			return ptrErr("kv_get", rc)
		}
		if int(ln) != vlen || wl.Get32(buf[4:]) != i {
			return wl.Wrong("kv_get of key %d: %d bytes, record %d", i, ln, wl.Get32(buf[4:]))
		}
	}
	c.chain = at
	return nil
}

func (c *ptrCtx) getMiss(n uint64) error {
	txn, miss, klen, buf := c.txn, c.d.Miss, c.d.KeyLen, c.buf
	nmiss := uint64(c.d.NMiss)
	var ln C.size_t
	at := c.chain
	for k := uint64(0); k < n; k++ {
		i := int(at % nmiss)
		at++
		rc := C.kv_get(txn, unsafe.Pointer(&miss[i*klen]), C.size_t(klen), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &ln)
		if rc != C.KV_E_NOT_FOUND {
			if rc == 0 {
				return wl.Wrong("kv_get found miss key %d", i)
			}
			return ptrErr("kv_get", rc)
		}
	}
	c.chain = at
	return nil
}

func (c *ptrCtx) bytes(n uint64) error {
	txn, key, buf, size := c.txn, c.keys, c.buf, c.param
	var ln C.size_t
	for k := uint64(0); k < n; k++ {
		rc := C.kv_get(txn, unsafe.Pointer(&key[0]), C.size_t(len(key)), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &ln)
		if rc != 0 {
			return ptrErr("kv_get", rc)
		}
		if int(ln) != size {
			return wl.Wrong("kv_get of %s: %d bytes", key, ln)
		}
	}
	return nil
}

func (c *ptrCtx) put(n uint64) error {
	keys, klen, v := c.d.PutKeys, c.d.KeyLen, c.buf
	nput, every := uint64(c.d.NPut), uint64(c.param)
	for i := range v {
		v[i] = 0x5a
	}
	for k := uint64(0); k < n; k++ {
		i := int(c.done % nput)
		rc := C.kv_put(c.txn, unsafe.Pointer(&keys[i*klen]), C.size_t(klen), unsafe.Pointer(&v[0]), C.size_t(len(v)))
		if rc != 0 {
			return ptrErr("kv_put", rc)
		}
		if c.done++; c.done%every == 0 { // commit every param puts; no-sync
			if rc = C.kv_txn_commit(c.txn); rc != 0 {
				return ptrErr("kv_txn_commit", rc)
			}
			C.kv_txn_free(c.txn)
			c.txn = nil
			if rc = C.kv_txn_begin(&c.txn, c.b.env, C.KV_TXN_WRITE); rc != 0 {
				return ptrErr("kv_txn_begin", rc)
			}
		}
	}
	return nil
}

// scanState is what the scan's callback counts; kv_scan passes a pointer to it back as its payload
// (Go memory without Go pointers in it: cgo's rules allow passing it for the call's duration).
type scanState struct {
	n, bad         uint64
	keyLen, valLen C.size_t
}

//export ffibenchScanPtr
func ffibenchScanPtr(key unsafe.Pointer, keyLen C.size_t, val unsafe.Pointer, valLen C.size_t, payload unsafe.Pointer) C.int {
	st := (*scanState)(payload)
	if keyLen != st.keyLen || valLen != st.valLen {
		st.bad++
	}
	st.n++
	return 0
}

func (c *ptrCtx) scan(n uint64) error {
	recs := c.d.ScanRecords
	lo, hi := c.d.Key(0), c.d.Key(uint32(recs))
	fn := (C.kv_scan_fn)(unsafe.Pointer(C.ffibenchScanPtr))
	var count C.size_t
	for k := uint64(0); k < n; k++ {
		st := scanState{keyLen: C.size_t(c.d.KeyLen), valLen: C.size_t(c.d.ValLen)}
		rc := C.kv_scan(c.txn, unsafe.Pointer(&lo[0]), C.size_t(len(lo)), unsafe.Pointer(&hi[0]), C.size_t(len(hi)), fn, unsafe.Pointer(&st), &count)
		if rc != 0 {
			return ptrErr("kv_scan", rc)
		}
		if st.n != uint64(recs) || int(count) != recs || st.bad != 0 {
			return wl.Wrong("kv_scan: %d calls, count %d, %d bad records; want %d", st.n, count, st.bad, recs)
		}
	}
	return nil
}

func (c *ptrCtx) batch(n uint64) error {
	d, keys, klen, p := c.d, c.keys, c.d.KeyLen, c.param
	nkeys := uint64(d.NKeys)
	var found C.size_t
	for k := uint64(0); k < n; k++ {
		for i := 0; i < p; i++ {
			copy(keys[i*klen:], d.Key(d.Order[(c.chain+uint64(i))%nkeys]))
		}
		first := d.Order[c.chain%nkeys]
		c.chain += uint64(p)
		rc := C.kv_get_batch(c.txn, C.size_t(p), unsafe.Pointer(&keys[0]), &c.klens[0], unsafe.Pointer(&c.buf[0]), C.size_t(len(c.buf)), &c.vlens[0], &found)
		if rc != 0 {
			return ptrErr("kv_get_batch", rc)
		}
		if int(found) != p || wl.Get32(c.buf[4:]) != first {
			return wl.Wrong("kv_get_batch: %d of %d found, first record %d, want %d", found, p, wl.Get32(c.buf[4:]), first)
		}
	}
	return nil
}

// FirstCall times the process's first two kv_add calls (first-call mode). Nothing is loaded before
// them: libkv is linked into the program (libkv.so by the dynamic loader before main, or libkv.a).
func FirstCall() (first, second time.Duration, err error) {
	t1 := time.Now()
	a := C.kv_add(40, 2)
	t2 := time.Now()
	b := C.kv_add(a, 1)
	t3 := time.Now()
	if a != 42 || b != 43 {
		err = wl.Wrong("kv_add gave %d, %d; want 42, 43", a, b)
	}
	return t2.Sub(t1), t3.Sub(t2), err
}
