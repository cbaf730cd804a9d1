# Helpers shared by the QMP test scripts: launch wisp or QEMU with QMP on unix sockets
# in a temporary directory, talk to them line by line, reduce replies to shapes, print TAP.
# Python 3 standard library only; every wait is bounded.
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

QEMU_DEFAULT = "/usr/bin/qemu-system-x86_64"


class QMPError(Exception):
    pass


class Conn:
    """One QMP connection: newline-delimited JSON in both directions."""

    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:  # a full listen backlog (EAGAIN) is waited out
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.buf = b""
        self.timeout = timeout
        self.events = []  # events received and not yet taken
        self.early_events = []  # events received before the greeting
        self.closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def recv_msg(self, timeout=None):
        """The next JSON message (events included); None when the peer closed; raises
        socket.timeout when nothing complete arrives in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no message within the timeout")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise QMPError("server sent something that is not JSON: %r (%s)" % (line[:200], e))

    def reply(self, timeout=None):
        """The next reply (a message with 'return' or 'error'); events met on the way are
        kept in self.events. None when the peer closed first."""
        while True:
            m = self.recv_msg(timeout)
            if m is None:
                return None
            if isinstance(m, dict) and "event" in m:
                self.events.append(m)
                continue
            return m

    def greeting(self):
        g = self.recv_msg()
        while isinstance(g, dict) and "event" in g:  # QEMU can send these first
            self.early_events.append(g)
            g = self.recv_msg()
        if not isinstance(g, dict) or "QMP" not in g:
            raise QMPError("no QMP greeting, got %r" % (g,))
        return g

    def negotiate(self):
        g = self.greeting()
        self.send({"execute": "qmp_capabilities"})
        r = self.reply()
        if not isinstance(r, dict) or r.get("return") != {}:
            raise QMPError("qmp_capabilities failed: %r" % (r,))
        return g

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.send(msg)
        return self.reply()

    def wait_events(self, names, timeout=5.0):
        """Waits until an event of each name in names arrived (in any order); returns the
        events taken, in arrival order. Missing ones are simply absent."""
        deadline = time.monotonic() + timeout
        want = list(names)
        got = []

        def take():
            for e in list(self.events):
                if e.get("event") in want:
                    want.remove(e["event"])
                    got.append(e)
                    self.events.remove(e)

        take()
        while want and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                m = self.recv_msg(left)
            except socket.timeout:
                break
            if m is None:
                break
            if isinstance(m, dict) and "event" in m:
                self.events.append(m)
            take()
        return got

    def drain(self, quiet=0.2):
        """Collects whatever arrives until the line is quiet for `quiet` seconds."""
        out = []
        while True:
            try:
                m = self.recv_msg(quiet)
            except socket.timeout:
                return out
            if m is None:
                return out
            out.append(m)


class VMM:
    """A running wisp or QEMU with QMP monitors on unix sockets in a fresh temp dir."""

    def __init__(self, kind, binary, hello=None, paused=True, monitors=1, extra=()):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="wisp-qmp-")
        self.sockets = [os.path.join(self.dir, "qmp%d.sock" % i) for i in range(monitors)]
        self.log = os.path.join(self.dir, "stderr")
        args = [binary]
        if kind == "qemu":
            accel = "kvm" if kvm_usable() else "tcg"
            args += [] if "-M" in extra else ["-M", "microvm"]
            args += ["-accel", accel, "-nodefaults", "-nographic"]
        else:
            args += ["-kernel", hello, "-append", "hold", "-serial", "none"]
            args += [] if "-m" in extra else ["-m", "64"]
        if paused:
            args.append("-S")
        args += list(extra)
        args += ["-qmp", "unix:%s,server=on,wait=off" % self.sockets[0]]
        for i, path in enumerate(self.sockets[1:], 1):
            args += ["-chardev", "socket,id=mon%d,path=%s,server=on,wait=off" % (i, path),
                     "-mon", "chardev=mon%d,mode=control" % i]
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"), start_new_session=True)
        deadline = time.monotonic() + 15
        while not all(os.path.exists(p) for p in self.sockets):
            if self.proc.poll() is not None:
                raise QMPError("%s exited with status %s before its monitor appeared: %s"
                               % (kind, self.proc.returncode, self.stderr()))
            if time.monotonic() > deadline:
                self.kill()
                raise QMPError("%s: no monitor socket after 15 s" % kind)
            time.sleep(0.02)

    def connect(self, index=0, timeout=10.0):
        return Conn(self.sockets[index], timeout)

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def wait(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def find_qemu(flag=None):
    """QEMU from --qemu, else $QEMU, else the default path; None when not executable."""
    q = flag or os.environ.get("QEMU") or QEMU_DEFAULT
    if q in ("", "none"):
        return None
    return q if os.access(q, os.X_OK) else None


# Shapes: a JSON value reduced to its structure. Dicts keep their keys, lists the shape of
# their first element, scalars become type names. A few values are part of the protocol
# and are kept: the error class and the event name.
def shape(v, parent=None):
    if isinstance(v, dict):
        out = {}
        for k in sorted(v):
            if (parent == "error" and k == "class") or (parent is None and k == "event"):
                out[k] = "=" + str(v[k])
            else:
                out[k] = shape(v[k], k)
        return out
    if isinstance(v, list):
        return ["list", shape(v[0], parent)] if v else ["list"]
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "str"
    if v is None:
        return "null"
    return "?"


def shape_diff(want, got, path="", optional=()):
    """Differences between two shapes as a list of strings. Lists are compared element-wise
    only when both are non-empty. Keys listed in optional (dotted paths, '*' for any list
    element) may be missing on either side."""
    out = []
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            p = path + "." + k if path else k
            if k not in got:
                if p not in optional:
                    out.append("%s: missing (qemu has %s)" % (p, json.dumps(want[k])))
            elif k not in want:
                if p not in optional:
                    out.append("%s: unexpected (qemu has no such key; got %s)" % (p, json.dumps(got[k])))
            else:
                out += shape_diff(want[k], got[k], p, optional)
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) == 2 and len(got) == 2:
            return shape_diff(want[1], got[1], path + "[*]", optional)
        return out
    if want != got:
        out.append("%s: qemu %s, got %s" % (path or "(top)", json.dumps(want), json.dumps(got)))
    return out


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, name):
        self.n += 1
        print("ok %d - %s" % (self.n, name), flush=True)

    def notok(self, name, why=""):
        self.n += 1
        self.failed += 1
        why = why.replace("\n", "\n# ")
        print("not ok %d - %s%s" % (self.n, name, ": " + why if why else ""), flush=True)

    def check(self, cond, name, why=""):
        (self.ok if cond else self.notok)(name, *(() if cond else (why,)))
        return cond

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        return 0 if self.failed == 0 else 1
