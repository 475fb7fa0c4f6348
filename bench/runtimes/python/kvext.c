/* kvext.c — a CPython extension module over libkv (kv.h): the Python benchmark's native reference.
 *
 * What a careful hand-written binding costs: METH_FASTCALL (no argument tuple), keys taken straight
 * from bytes objects (any other buffer through the buffer protocol), output written into the caller's
 * writable buffer, errors raised as kvext.Error(code, message). Environments and transactions are
 * small objects holding the engine pointer; ending one clears the pointer, so a use after the end is
 * an exception rather than undefined behaviour.
 *
 *   env_open(path: bytes, map_size: int) -> Env          (no-sync durability: a benchmark store)
 *   env_close(env)                         txn_begin(env, flags: int) -> Txn
 *   txn_end(txn, commit: bool)             noop()                 add(a, b) -> int
 *   get_into(txn, key, buf) -> int         get(txn, key) -> bytes put(txn, key, value)
 *   scan(txn, lo, hi, callback) -> int     callback(key_len, val_len) per record; non-zero stops
 *   get_batch(txn, keys, key_lens, buf, val_lens) -> int   key_lens/val_lens: size_t arrays
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kv.h"

static PyObject *kvext_error; /* kvext.Error */

typedef struct {
  PyObject_HEAD
  void *ptr; /* kv_env * or kv_txn *; NULL once closed/ended */
} kvext_obj;

static PyTypeObject *env_type, *txn_type;

static PyObject *raise_kv(int rc) {
  PyObject *args = Py_BuildValue("(is)", rc, kv_last_error());
  if (args) PyErr_SetObject(kvext_error, args);
  Py_XDECREF(args);
  return NULL;
}

/* The live engine object in o, which must be of type t; NULL with an exception otherwise. */
static void *live(PyObject *o, PyTypeObject *t) {
  if (Py_TYPE(o) != t) {
    PyErr_Format(PyExc_TypeError, "expected kvext.%s", t == env_type ? "Env" : "Txn");
    return NULL;
  }
  void *p = ((kvext_obj *)o)->ptr;
  if (!p) PyErr_SetString(PyExc_ValueError, "closed or ended");
  return p;
}

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want) {
  if (nargs == want) return 0;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, nargs);
  return -1;
}

/* A read-only byte string: bytes directly (the common case, no buffer request), anything else that
 * exports a buffer through the buffer protocol. *view is released by release_bytes(). */
typedef struct {
  const void *p;
  size_t n;
  Py_buffer view;
  int has_view;
} in_bytes;

static int get_bytes(PyObject *o, in_bytes *b) {
  b->has_view = 0;
  if (PyBytes_CheckExact(o)) {
    b->p = PyBytes_AS_STRING(o), b->n = (size_t)PyBytes_GET_SIZE(o);
    return 0;
  }
  if (PyObject_GetBuffer(o, &b->view, PyBUF_SIMPLE) < 0) return -1;
  b->p = b->view.buf, b->n = (size_t)b->view.len, b->has_view = 1;
  return 0;
}

static void release_bytes(in_bytes *b) {
  if (b->has_view) PyBuffer_Release(&b->view);
}

/* ---- objects ----------------------------------------------------------------------------------- */
/* Instances of heap types hold a reference to their type, dropped with them. */
static void env_dealloc(PyObject *self) {
  PyTypeObject *t = Py_TYPE(self);
  kv_env_close(((kvext_obj *)self)->ptr); /* NULL: a no-op */
  PyObject_Free(self);
  Py_DECREF(t);
}

static void txn_dealloc(PyObject *self) {
  PyTypeObject *t = Py_TYPE(self);
  kv_txn_free(((kvext_obj *)self)->ptr); /* aborts it first if still active */
  PyObject_Free(self);
  Py_DECREF(t);
}

static PyObject *wrap(PyTypeObject *t, void *p) {
  kvext_obj *o = PyObject_New(kvext_obj, t);
  if (o) o->ptr = p;
  return (PyObject *)o;
}

/* ---- functions --------------------------------------------------------------------------------- */
static PyObject *kvext_env_open(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("env_open", nargs, 2)) return NULL;
  const char *path = PyBytes_AsString(args[0]);
  unsigned long long map = PyLong_AsUnsignedLongLong(args[1]);
  if (!path || PyErr_Occurred()) return NULL;
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC, o.map_size = map;
  kv_env *env;
  int rc = kv_env_open(&env, path, &o);
  return rc ? raise_kv(rc) : wrap(env_type, env);
}

static PyObject *kvext_env_close(PyObject *m, PyObject *arg) {
  (void)m;
  kv_env *env = live(arg, env_type);
  if (!env) return NULL;
  int rc = kv_env_close(env);
  if (rc) return raise_kv(rc);
  ((kvext_obj *)arg)->ptr = NULL;
  Py_RETURN_NONE;
}

static PyObject *kvext_txn_begin(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("txn_begin", nargs, 2)) return NULL;
  kv_env *env = live(args[0], env_type);
  long flags = PyLong_AsLong(args[1]);
  if (!env || PyErr_Occurred()) return NULL;
  kv_txn *txn;
  int rc = kv_txn_begin(&txn, env, (unsigned)flags);
  return rc ? raise_kv(rc) : wrap(txn_type, txn);
}

static PyObject *kvext_txn_end(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("txn_end", nargs, 2)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  int commit = PyObject_IsTrue(args[1]);
  if (!txn || commit < 0) return NULL;
  int rc = commit ? kv_txn_commit(txn) : kv_txn_abort(txn);
  kv_txn_free(txn);
  ((kvext_obj *)args[0])->ptr = NULL;
  if (rc) return raise_kv(rc);
  Py_RETURN_NONE;
}

static PyObject *kvext_noop(PyObject *m, PyObject *unused) {
  (void)m, (void)unused;
  kv_noop();
  Py_RETURN_NONE;
}

static PyObject *kvext_add(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("add", nargs, 2)) return NULL;
  long a = PyLong_AsLong(args[0]), b = PyLong_AsLong(args[1]);
  if ((a == -1 || b == -1) && PyErr_Occurred()) return NULL;
  return PyLong_FromLong(kv_add((int)a, (int)b));
}

static PyObject *kvext_get_into(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("get_into", nargs, 3)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  if (!txn) return NULL;
  in_bytes key;
  if (get_bytes(args[1], &key) < 0) return NULL;
  Py_buffer out;
  if (PyObject_GetBuffer(args[2], &out, PyBUF_WRITABLE) < 0) {
    release_bytes(&key);
    return NULL;
  }
  size_t len;
  int rc = kv_get(txn, key.p, key.n, out.buf, (size_t)out.len, &len);
  PyBuffer_Release(&out);
  release_bytes(&key);
  return rc ? raise_kv(rc) : PyLong_FromSize_t(len);
}

static PyObject *kvext_get(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("get", nargs, 2)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  if (!txn) return NULL;
  in_bytes key;
  if (get_bytes(args[1], &key) < 0) return NULL;
  const void *val;
  size_t len;
  /* Zero-copy from the engine, then one copy into the new bytes object. */
  int rc = kv_get_ref(txn, key.p, key.n, &val, &len);
  release_bytes(&key);
  return rc ? raise_kv(rc) : PyBytes_FromStringAndSize(val, (Py_ssize_t)len);
}

static PyObject *kvext_put(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("put", nargs, 3)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  if (!txn) return NULL;
  in_bytes key, val;
  if (get_bytes(args[1], &key) < 0) return NULL;
  if (get_bytes(args[2], &val) < 0) {
    release_bytes(&key);
    return NULL;
  }
  int rc = kv_put(txn, key.p, key.n, val.p, val.n);
  release_bytes(&val);
  release_bytes(&key);
  if (rc) return raise_kv(rc);
  Py_RETURN_NONE;
}

/* The scan upcall: the Python callback with (key_len, val_len). An exception in it stops the scan
 * (a positive return, as kv.h asks) and is re-raised when kv_scan returns. */
static int scan_upcall(const void *key, size_t key_len, const void *val, size_t val_len, void *payload) {
  (void)key, (void)val;
  PyObject *args[2] = {PyLong_FromSize_t(key_len), PyLong_FromSize_t(val_len)};
  PyObject *res = NULL;
  if (args[0] && args[1]) res = PyObject_Vectorcall((PyObject *)payload, args, 2, NULL);
  Py_XDECREF(args[0]);
  Py_XDECREF(args[1]);
  if (!res) return 1;
  long stop = PyLong_Check(res) ? PyLong_AsLong(res) : 0;
  Py_DECREF(res);
  return stop ? (stop > 0 ? (int)stop : 1) : 0;
}

static PyObject *kvext_scan(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("scan", nargs, 4)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  if (!txn) return NULL;
  if (!PyCallable_Check(args[3])) return PyErr_Format(PyExc_TypeError, "callback not callable");
  in_bytes lo, hi;
  if (get_bytes(args[1], &lo) < 0) return NULL;
  if (get_bytes(args[2], &hi) < 0) {
    release_bytes(&lo);
    return NULL;
  }
  size_t count = 0;
  int rc = kv_scan(txn, lo.p, lo.n, hi.p, hi.n, scan_upcall, args[3], &count);
  release_bytes(&hi);
  release_bytes(&lo);
  if (PyErr_Occurred()) return NULL;
  if (rc < 0) return raise_kv(rc);
  return PyLong_FromSize_t(count);
}

static PyObject *kvext_get_batch(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
  (void)m;
  if (check_nargs("get_batch", nargs, 5)) return NULL;
  kv_txn *txn = live(args[0], txn_type);
  if (!txn) return NULL;
  Py_buffer keys, key_lens, out, val_lens;
  if (PyObject_GetBuffer(args[1], &keys, PyBUF_SIMPLE) < 0) return NULL;
  if (PyObject_GetBuffer(args[2], &key_lens, PyBUF_SIMPLE) < 0) goto fail_keys;
  if (PyObject_GetBuffer(args[3], &out, PyBUF_WRITABLE) < 0) goto fail_key_lens;
  if (PyObject_GetBuffer(args[4], &val_lens, PyBUF_WRITABLE) < 0) goto fail_out;
  PyObject *res = NULL;
  size_t n = (size_t)key_lens.len / sizeof(size_t);
  if ((size_t)key_lens.len % sizeof(size_t) || (size_t)val_lens.len < key_lens.len) {
    PyErr_SetString(PyExc_ValueError, "key_lens and val_lens must be size_t arrays of n entries");
  } else {
    size_t found;
    int rc = kv_get_batch(txn, n, keys.buf, key_lens.buf, out.buf, (size_t)out.len, val_lens.buf,
                          &found);
    res = rc ? raise_kv(rc) : PyLong_FromSize_t(found);
  }
  PyBuffer_Release(&val_lens);
  PyBuffer_Release(&out);
  PyBuffer_Release(&key_lens);
  PyBuffer_Release(&keys);
  return res;
fail_out:
  PyBuffer_Release(&out);
fail_key_lens:
  PyBuffer_Release(&key_lens);
fail_keys:
  PyBuffer_Release(&keys);
  return NULL;
}

/* ---- module ------------------------------------------------------------------------------------ */
#define FAST(name) {#name, (PyCFunction)(void (*)(void))kvext_##name, METH_FASTCALL, NULL}
static PyMethodDef kvext_methods[] = {
    FAST(env_open), {"env_close", kvext_env_close, METH_O, NULL}, FAST(txn_begin), FAST(txn_end),
    {"noop", kvext_noop, METH_NOARGS, NULL}, FAST(add), FAST(get_into), FAST(get), FAST(put),
    FAST(scan), FAST(get_batch), {NULL, NULL, 0, NULL}};

static PyType_Slot env_slots[] = {{Py_tp_dealloc, env_dealloc}, {0, NULL}};
static PyType_Slot txn_slots[] = {{Py_tp_dealloc, txn_dealloc}, {0, NULL}};
static PyType_Spec env_spec = {"kvext.Env", sizeof(kvext_obj), 0, Py_TPFLAGS_DEFAULT, env_slots};
static PyType_Spec txn_spec = {"kvext.Txn", sizeof(kvext_obj), 0, Py_TPFLAGS_DEFAULT, txn_slots};

#if PY_VERSION_HEX < 0x030A0000 /* PyPy 3.9's cpyext: PyModule_AddObjectRef is 3.10's */
static int PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *o) {
  Py_XINCREF(o);
  int rc = PyModule_AddObject(m, name, o); /* steals the reference only on success */
  if (rc < 0) Py_XDECREF(o);
  return rc;
}
#endif

static struct PyModuleDef kvext_module = {PyModuleDef_HEAD_INIT, "kvext",
                                          "libkv for the ffibench native reference", -1,
                                          kvext_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_kvext(void) {
  _Static_assert(sizeof(size_t) == sizeof(unsigned long), "array('L') must be size_t");
  PyObject *m = PyModule_Create(&kvext_module);
  if (!m) return NULL;
  env_type = (PyTypeObject *)PyType_FromSpec(&env_spec);
  txn_type = (PyTypeObject *)PyType_FromSpec(&txn_spec);
  kvext_error = PyErr_NewException("kvext.Error", NULL, NULL);
  if (!env_type || !txn_type || !kvext_error || PyModule_AddObjectRef(m, "Error", kvext_error) < 0 ||
      PyModule_AddObjectRef(m, "Env", (PyObject *)env_type) < 0 ||
      PyModule_AddObjectRef(m, "Txn", (PyObject *)txn_type) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
