package kvso

// marshal.go — the marshal ABI (kv_marshal.h, engine/doc/PROTOCOL.md) through cgo: each operation is
// a request encoded in Go into a byte slice and one C.kvm_call, its response decoded in Go. The timed
// loops hold the encoding, the call and the decoding, as the C suite's marshal row does.

/*
#include "kv_marshal.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"ffibench/go/wl"
)

var le = binary.LittleEndian

// Marshal is the marshal ABI's binding, open on its own copy of the data set.
type Marshal struct {
	d    *wl.Data
	env  uint64
	resp []byte
}

func (b *Marshal) call(req []byte) (int32, []byte) {
	var n C.size_t
	rc := C.kvm_call(unsafe.Pointer(&req[0]), C.size_t(len(req)), unsafe.Pointer(&b.resp[0]), C.size_t(len(b.resp)), &n)
	return int32(rc), b.resp[:n]
}

// mErr is lastError's for a request's status (an error even for 0: a response of the wrong size).
func mErr(what string, rc int32) error { return lastError(what, C.int(rc)) }

func header(op int) []byte { return []byte{C.KVM_VERSION, byte(op)} }

// OpenMarshal opens path (a fresh copy of base.kv) with an ENV_OPEN request of the suite's options.
func OpenMarshal(d *wl.Data, path string) (*Marshal, error) {
	o, err := suiteOptions()
	if err != nil {
		return nil, err
	}
	req := header(C.KVM_OP_ENV_OPEN)
	req = le.AppendUint32(req, uint32(len(path)))
	req = append(req, path...)
	req = le.AppendUint32(req, uint32(o.version))
	req = le.AppendUint32(req, uint32(o.flags))
	req = le.AppendUint64(req, uint64(o.map_size))
	req = le.AppendUint32(req, uint32(o.durability))
	req = le.AppendUint32(req, uint32(o.reserved))
	b := &Marshal{d: d, resp: make([]byte, 64)}
	rc, resp := b.call(req)
	if rc != 0 {
		return nil, mErr("ENV_OPEN", rc)
	}
	b.env = le.Uint64(resp[4:])
	return b, nil
}

// Close closes the environment.
func (b *Marshal) Close() error {
	req := le.AppendUint64(header(C.KVM_OP_ENV_CLOSE), b.env)
	if rc, _ := b.call(req); rc != 0 {
		return mErr("ENV_CLOSE", rc)
	}
	return nil
}

type mCtx struct {
	b     *Marshal
	d     *wl.Data
	txn   uint64
	chain uint64
	req   []byte
	resp  []byte
	run   func(n uint64) error
}

// Setup makes workload w ready on the calling OS thread (a TXN_BEGIN request for get).
func (b *Marshal) Setup(w string, param int) (wl.Ctx, error) {
	c := &mCtx{b: b, d: b.d, req: make([]byte, 64), resp: make([]byte, 64+b.d.ValLen)}
	switch w {
	case "noop":
		c.run = c.noop
	case "add/mode:latency":
		c.run = c.addLatency
	case "add/mode:throughput":
		c.run = c.addThroughput
	case "get/mode:latency":
		c.run = c.getLatency
		req := le.AppendUint64(header(C.KVM_OP_TXN_BEGIN), b.env)
		req = le.AppendUint32(req, C.KV_TXN_READ)
		rc, resp := b.call(req)
		if rc != 0 {
			return nil, mErr("TXN_BEGIN", rc)
		}
		c.txn = le.Uint64(resp[4:])
	default:
		return nil, fmt.Errorf("no workload %s", w)
	}
	return c, nil
}

func (c *mCtx) Run(n uint64) error { return c.run(n) }

// Close releases the transaction's handle (RELEASE aborts it), on its own thread.
func (c *mCtx) Close() error {
	if c.txn == 0 {
		return nil
	}
	rc, _ := c.b.call(le.AppendUint64(header(C.KVM_OP_RELEASE), c.txn))
	c.txn = 0
	if rc != 0 {
		return mErr("RELEASE", rc)
	}
	return nil
}

func (c *mCtx) noop(n uint64) error {
	req, resp := c.req[:2], c.resp
	var ln C.size_t
	for i := uint64(0); i < n; i++ {
		req[0], req[1] = C.KVM_VERSION, C.KVM_OP_NOOP
		rc := C.kvm_call(unsafe.Pointer(&req[0]), C.size_t(len(req)), unsafe.Pointer(&resp[0]), C.size_t(len(resp)), &ln)
		if rc != 0 || ln != C.KVM_STATUS_SIZE {
			return mErr("NOOP", int32(rc))
		}
	}
	return nil
}

func (c *mCtx) addLatency(n uint64) error {
	req, resp := c.req[:10], c.resp
	var ln C.size_t
	x := uint32(c.chain)
	for i := uint64(0); i < n; i++ {
		req[0], req[1] = C.KVM_VERSION, C.KVM_OP_ADD
		le.PutUint32(req[2:], x)
		le.PutUint32(req[6:], 1)
		rc := C.kvm_call(unsafe.Pointer(&req[0]), C.size_t(len(req)), unsafe.Pointer(&resp[0]), C.size_t(len(resp)), &ln)
		if rc != 0 || ln != 8 {
			return mErr("ADD", int32(rc))
		}
		x = le.Uint32(resp[4:])
	}
	want := uint32(c.chain + n)
	c.chain += n
	if x != want {
		return wl.Wrong("ADD chain ended at %d, want %d", x, want)
	}
	return nil
}

func (c *mCtx) addThroughput(n uint64) error {
	req, resp := c.req[:10], c.resp
	var ln C.size_t
	var acc uint32
	for i := uint64(0); i < n; i++ {
		req[0], req[1] = C.KVM_VERSION, C.KVM_OP_ADD
		le.PutUint32(req[2:], uint32(i))
		le.PutUint32(req[6:], 1)
		rc := C.kvm_call(unsafe.Pointer(&req[0]), C.size_t(len(req)), unsafe.Pointer(&resp[0]), C.size_t(len(resp)), &ln)
		if rc != 0 || ln != 8 {
			return mErr("ADD", int32(rc))
		}
		acc += le.Uint32(resp[4:])
	}
	return wl.AddSum("ADD", acc, n)
}

func (c *mCtx) getLatency(n uint64) error {
	keys, klen, vlen := c.d.Keys, c.d.KeyLen, c.d.ValLen
	req, resp := c.req[:14+klen], c.resp
	var ln C.size_t
	i := uint32(c.chain)
	for k := uint64(0); k < n; k++ {
		req[0], req[1] = C.KVM_VERSION, C.KVM_OP_GET
		le.PutUint64(req[2:], c.txn)
		le.PutUint32(req[10:], uint32(klen))
		copy(req[14:], keys[int(i)*klen:int(i+1)*klen])
		rc := C.kvm_call(unsafe.Pointer(&req[0]), C.size_t(len(req)), unsafe.Pointer(&resp[0]), C.size_t(len(resp)), &ln)
		if rc != 0 {
			return mErr("GET", int32(rc))
		}
		if int(ln) != 8+vlen || int(le.Uint32(resp[4:])) != vlen || le.Uint32(resp[12:]) != i {
			return wl.Wrong("GET of key %d: response of %d bytes, record %d", i, ln, le.Uint32(resp[12:]))
		}
		i = le.Uint32(resp[8:])
	}
	c.chain = uint64(i)
	return nil
}

// MarshalFirstCall times the process's first two ADD requests (first-call mode); nothing is loaded
// before them (libkv.so is linked), the request buffers are made before the clock.
func MarshalFirstCall() (first, second time.Duration, err error) {
	req, resp := make([]byte, 10), make([]byte, 8)
	var ln C.size_t
	req[0], req[1] = C.KVM_VERSION, C.KVM_OP_ADD
	le.PutUint32(req[2:], 40)
	le.PutUint32(req[6:], 2)
	t1 := time.Now()
	rc1 := C.kvm_call(unsafe.Pointer(&req[0]), 10, unsafe.Pointer(&resp[0]), 8, &ln)
	t2 := time.Now()
	a := le.Uint32(resp[4:])
	le.PutUint32(req[2:], a)
	le.PutUint32(req[6:], 1)
	rc2 := C.kvm_call(unsafe.Pointer(&req[0]), 10, unsafe.Pointer(&resp[0]), 8, &ln)
	t3 := time.Now()
	if b := le.Uint32(resp[4:]); rc1 != 0 || rc2 != 0 || a != 42 || b != 43 {
		err = wl.Wrong("ADD gave %d (%d), %d (%d); want 42, 43", a, rc1, b, rc2)
	}
	return t2.Sub(t1), t3.Sub(t2), err
}
