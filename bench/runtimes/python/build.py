"""build.py — builds the two compiled bindings for each interpreter into
$KV_BUILD_DIR/runtimes/python/<interp>/ (cpython, pypy; once, reused while their inputs are unchanged):

  kvext      the C extension module (kvext.c), C11; under PyPy it runs on cpyext, PyPy's emulation
             of CPython's C API
  _kvcffi    cffi's API-mode module: cffi writes its C source (emit_c_code), and the same compile
             step as kvext builds it, so no setuptools/distutils is needed.

Both link libkv.so by its absolute path, with an rpath to its folder. An extension module is built
against its interpreter's own headers and named with its EXT_SUFFIX, so build.py runs once under
each: the folder's build (runtime.toml) runs it under CPython, which builds CPython's and then runs
`pypy3 build.py --this-interpreter` for PyPy's. Without pypy3 (or its pypy3-dev headers) CPython's
build still succeeds; the pypy runtime then cannot start and says why.
"""
import os
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))


PYPY = "/usr/bin/pypy3"  # Debian's pypy3, the interpreter of runtime.toml's pypy runtime


def interp():
    """This interpreter's build folder name: cpython or pypy."""
    return "pypy" if sys.implementation.name == "pypy" else "cpython"


def build_dir():
    d = os.path.join(os.environ["KV_BUILD_DIR"], "runtimes", "python", interp())
    os.makedirs(d, exist_ok=True)
    return d


def _stale(target, inputs):
    if not os.path.exists(target):
        return True
    t = os.path.getmtime(target)
    return any(os.path.getmtime(i) > t for i in inputs)


def _compile(source, module, out_dir, extra_inputs=()):
    """source (C) -> out_dir/<module><EXT_SUFFIX>, a Python extension linked with libkv."""
    lib, inc = os.environ["KV_LIBRARY"], os.environ["KV_INCLUDE"]
    target = os.path.join(out_dir, module + sysconfig.get_config_var("EXT_SUFFIX"))
    headers = [os.path.join(inc, h) for h in ("kv.h", "kv_handle.h", "kv_marshal.h")]
    if not _stale(target, [source, lib, *headers, *extra_inputs]):
        return target
    cmd = [os.environ.get("CC", "cc"), "-std=c11", "-O2", "-fPIC", "-shared", "-Wall",
           "-I", sysconfig.get_paths()["include"], "-I", inc, source, "-o", target + ".tmp",
           lib, "-Wl,-rpath," + os.path.dirname(lib)]
    subprocess.run(cmd, check=True)
    os.replace(target + ".tmp", target)
    return target


def build():
    """Builds what is missing or stale and returns the folder to put on sys.path."""
    out = build_dir()
    _compile(os.path.join(HERE, "kvext.c"), "kvext", out)
    import cffi_defs
    src = os.path.join(out, cffi_defs.MODULE + ".c")
    defs = os.path.join(HERE, "cffi_defs.py")
    if _stale(src, [defs]):
        cffi_defs.builder().emit_c_code(src)
    _compile(src, cffi_defs.MODULE, out, [defs])
    return out


def missing():
    """What this interpreter lacks on this machine, or None: cffi, Python.h, a C compiler."""
    import shutil
    dev = "pypy3-dev" if interp() == "pypy" else "python3-dev"
    try:
        import cffi  # noqa: F401
    except ImportError:
        return f"python3-cffi is not installed for {sys.executable}"
    if not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
        return f"Python.h is missing ({dev})"
    if not shutil.which(os.environ.get("CC", "cc")):
        return "no C compiler (gcc)"
    return None


def build_pypy():
    """PyPy's products, built by pypy3 itself; False (and why, on stderr) when it cannot."""
    if not os.path.exists(PYPY):
        print(f"pypy: {PYPY} is not installed (Debian's pypy3, pypy3-dev): the pypy runtime cannot run",
              file=sys.stderr)
        return False
    return subprocess.run([PYPY, os.path.abspath(__file__), "--this-interpreter"]).returncode == 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    only_this = sys.argv[1:] == ["--this-interpreter"]
    why = missing()
    if why:
        print(f"{'pypy' if interp() == 'pypy' else 'python'}: {why}", file=sys.stderr)
        sys.exit(77)  # the driver's "not installed here" (bench/runtimes/README.md)
    print(build())
    if not only_this and interp() == "cpython":
        build_pypy()  # CPython's products stand either way
