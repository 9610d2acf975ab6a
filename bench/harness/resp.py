"""A small blocking RESP2 client for the harness's own requests: loading keys
with pipelined MSET, timing KEYS, walking SCAN and probing for the first reply
after a restart. redis-benchmark does the throughput measurements."""

import socket
import time


class RespError(Exception):
    """An error reply (-ERR ...) from the server."""


class Connection:
    def __init__(self, port, host="127.0.0.1", timeout=60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        """Sends one command and returns its reply; raises RespError on -ERR."""
        self.send_raw(self.encode(*args))
        reply = self.read_reply()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        if self.pos > (1 << 20):
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos : end])
                self.pos = end + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n + 2
        return data

    def read_reply(self):
        """One reply; error replies are returned (not raised) as RespError so
        pipelined callers can count them."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise ValueError("unexpected RESP reply %r" % line[:80])


def wait_ready(port, proc, deadline_s=120.0, probe=("PING",), expect=None):
    """Polls until `probe` gets a non-error reply (equal to `expect` if given).
    Returns seconds waited. Raises if the process exits or the deadline
    passes. Used both for start-up and for the restart-to-first-reply time."""
    start = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError("server exited with code %s while starting" % proc.returncode)
        elapsed = time.monotonic() - start
        if elapsed > deadline_s:
            raise TimeoutError("no reply on port %d after %.0f s" % (port, deadline_s))
        try:
            with Connection(port, timeout=5.0) as c:
                while time.monotonic() - start < deadline_s:
                    c.send_raw(Connection.encode(*probe))
                    reply = c.read_reply()
                    if not isinstance(reply, RespError) and (expect is None or reply == expect):
                        return time.monotonic() - start
                    time.sleep(0.002)  # e.g. Redis's -LOADING while it reads the AOF
        except (ConnectionError, OSError, socket.timeout):
            time.sleep(0.002)
