package kvso

// handle.go — the handle ABI (kv_handle.h) through cgo: the same loops as ptr.go's over kvh_*, whose
// objects are 64-bit handles validated on every call instead of pointers.

/*
#include <stdlib.h>
#include "kv_handle.h"
extern int ffibenchScanHandle(void *key, size_t key_len, void *val, size_t val_len, void *payload);
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"

	"ffibench/go/wl"
)

// Handle is the handle ABI's binding, open on its own copy of the data set.
type Handle struct {
	d   *wl.Data
	env C.kvh_handle
}

// OpenHandle opens path (a fresh copy of base.kv) with the suite's options.
func OpenHandle(d *wl.Data, path string) (*Handle, error) {
	o, err := suiteOptions()
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	b := &Handle{d: d}
	if rc := C.kvh_env_open(&b.env, cpath, &o); rc != 0 {
		return nil, ptrErr("kvh_env_open", rc)
	}
	return b, nil
}

// Close closes the environment (every context closed first).
func (b *Handle) Close() error { return ptrErr("kvh_env_close", C.kvh_env_close(b.env)) }

type hCtx struct {
	b     *Handle
	d     *wl.Data
	txn   C.kvh_handle
	param int
	chain uint64
	done  uint64
	buf   []byte
	run   func(n uint64) error
}

// Setup makes workload w ready on the calling OS thread.
func (b *Handle) Setup(w string, param int) (wl.Ctx, error) {
	c := &hCtx{b: b, d: b.d, param: param}
	txnFlags := -1
	switch w {
	case "noop":
		c.run = c.noop
	case "add/mode:latency":
		c.run = c.addLatency
	case "add/mode:throughput":
		c.run = c.addThroughput
	case "get/mode:latency":
		c.run, txnFlags = c.getLatency, C.KV_TXN_READ
	case "put":
		c.run, txnFlags = c.put, C.KV_TXN_WRITE
	case "scan/dir:upcall":
		c.run, txnFlags = c.scan, C.KV_TXN_READ
	default:
		return nil, fmt.Errorf("no workload %s", w)
	}
	c.buf = make([]byte, b.d.ValLen)
	if txnFlags >= 0 {
		if rc := C.kvh_txn_begin(&c.txn, b.env, C.uint(txnFlags)); rc != 0 {
			return nil, ptrErr("kvh_txn_begin", rc)
		}
	}
	return c, nil
}

func (c *hCtx) Run(n uint64) error { return c.run(n) }

// Close ends the transaction (put commits) and releases its handle, on its own thread.
func (c *hCtx) Close() error {
	if c.txn == 0 {
		return nil
	}
	var rc C.int
	if C.kvh_txn_is_write(c.txn) == 1 {
		rc = C.kvh_txn_commit(c.txn) // commits and releases the handle
	} else {
		rc = C.kvh_txn_abort(c.txn) // aborts and releases it
	}
	c.txn = 0
	return ptrErr("ending the transaction", rc)
}

func (c *hCtx) noop(n uint64) error {
	env := c.b.env
	for i := uint64(0); i < n; i++ {
		if rc := C.kvh_noop(env); rc != 0 {
			return ptrErr("kvh_noop", rc)
		}
	}
	return nil
}

func (c *hCtx) addLatency(n uint64) error {
	env := c.b.env
	x := C.int(int32(uint32(c.chain)))
	for i := uint64(0); i < n; i++ {
		if rc := C.kvh_add(env, x, 1, &x); rc != 0 {
			return ptrErr("kvh_add", rc)
		}
	}
	want := int32(uint32(c.chain + n))
	c.chain += n
	if int32(x) != want {
		return wl.Wrong("kvh_add chain ended at %d, want %d", x, want)
	}
	return nil
}

func (c *hCtx) addThroughput(n uint64) error {
	env := c.b.env
	var acc uint32
	var s C.int
	for i := uint64(0); i < n; i++ {
		if rc := C.kvh_add(env, C.int(int32(i)), 1, &s); rc != 0 {
			return ptrErr("kvh_add", rc)
		}
		acc += uint32(s)
	}
	return wl.AddSum("kvh_add", acc, n)
}

func (c *hCtx) getLatency(n uint64) error {
	txn, keys, klen, buf := c.txn, c.d.Keys, c.d.KeyLen, c.buf
	vlen := c.d.ValLen
	var ln C.size_t
	i := uint32(c.chain)
	for k := uint64(0); k < n; k++ {
		rc := C.kvh_get(txn, unsafe.Pointer(&keys[int(i)*klen]), C.size_t(klen), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), &ln)
		if rc != 0 {
			return ptrErr("kvh_get", rc)
		}
		if int(ln) != vlen || wl.Get32(buf[4:]) != i {
			return wl.Wrong("kvh_get of key %d: %d bytes, record %d", i, ln, wl.Get32(buf[4:]))
		}
		i = wl.Get32(buf)
	}
	c.chain = uint64(i)
	return nil
}

func (c *hCtx) put(n uint64) error {
	keys, klen, v := c.d.PutKeys, c.d.KeyLen, c.buf
	nput, every := uint64(c.d.NPut), uint64(c.param)
	for i := range v {
		v[i] = 0x5a
	}
	for k := uint64(0); k < n; k++ {
		i := int(c.done % nput)
		rc := C.kvh_put(c.txn, unsafe.Pointer(&keys[i*klen]), C.size_t(klen), unsafe.Pointer(&v[0]), C.size_t(len(v)))
		if rc != 0 {
			return ptrErr("kvh_put", rc)
		}
		if c.done++; c.done%every == 0 {
			if rc = C.kvh_txn_commit(c.txn); rc != 0 {
				return ptrErr("kvh_txn_commit", rc)
			}
			c.txn = 0 // the commit released it
			if rc = C.kvh_txn_begin(&c.txn, c.b.env, C.KV_TXN_WRITE); rc != 0 {
				return ptrErr("kvh_txn_begin", rc)
			}
		}
	}
	return nil
}

//export ffibenchScanHandle
func ffibenchScanHandle(key unsafe.Pointer, keyLen C.size_t, val unsafe.Pointer, valLen C.size_t, payload unsafe.Pointer) C.int {
	st := (*scanState)(payload)
	if keyLen != st.keyLen || valLen != st.valLen {
		st.bad++
	}
	st.n++
	return 0
}

func (c *hCtx) scan(n uint64) error {
	recs := c.d.ScanRecords
	lo, hi := c.d.Key(0), c.d.Key(uint32(recs))
	fn := (C.kv_scan_fn)(unsafe.Pointer(C.ffibenchScanHandle))
	var count C.size_t
	for k := uint64(0); k < n; k++ {
		st := scanState{keyLen: C.size_t(c.d.KeyLen), valLen: C.size_t(c.d.ValLen)}
		rc := C.kvh_scan(c.txn, unsafe.Pointer(&lo[0]), C.size_t(len(lo)), unsafe.Pointer(&hi[0]), C.size_t(len(hi)), fn, unsafe.Pointer(&st), &count)
		if rc != 0 {
			return ptrErr("kvh_scan", rc)
		}
		if st.n != uint64(recs) || int(count) != recs || st.bad != 0 {
			return wl.Wrong("kvh_scan: %d calls, count %d, %d bad records; want %d", st.n, count, st.bad, recs)
		}
	}
	return nil
}

// HandleFirstCall times the process's first two kvh_add calls (first-call mode). kvh_add validates an
// environment handle, so there is nothing to call before one is open: LOAD is kvh_env_open of path (a
// new database in the process's scratch folder, no-sync), timed from t0, the clock's first reading.
func HandleFirstCall(t0 time.Time, path string) (load, first, second time.Duration, err error) {
	var o C.kv_options
	C.kv_options_init(&o)
	o.durability = C.KV_DURABLE_NOSYNC
	cpath := C.CString(path)
	var env C.kvh_handle
	rc := C.kvh_env_open(&env, cpath, &o)
	C.free(unsafe.Pointer(cpath))
	if rc != 0 {
		return 0, 0, 0, ptrErr("kvh_env_open", rc)
	}
	var a, b C.int
	t1 := time.Now()
	rc1 := C.kvh_add(env, 40, 2, &a)
	t2 := time.Now()
	rc2 := C.kvh_add(env, a, 1, &b)
	t3 := time.Now()
	C.kvh_env_close(env)
	if rc1 != 0 || rc2 != 0 || a != 42 || b != 43 {
		err = wl.Wrong("kvh_add gave %d (%d), %d (%d); want 42, 43", a, rc1, b, rc2)
	}
	return t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), err
}
