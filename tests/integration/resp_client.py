"""A deliberately small raw RESP client for integration tests.

It sends arbitrary bytes and reads back exactly one complete reply as the raw
bytes the server sent, so tests can compare replies byte for byte (including
error texts, nil vs empty, integer vs bulk). It understands the framing of
every RESP2 and RESP3 reply type, which is all it needs to know where a reply
ends; `decode` turns raw reply bytes into Python values when a test needs to
look inside (SCAN pages, sorted KEYS).
"""

from __future__ import annotations

import socket
import time

DEFAULT_TIMEOUT = 5.0

# Reply types whose frame is a single CRLF-terminated line.
_LINE_TYPES = frozenset(b"+-:_,#(")
# Length-prefixed blob types: "$5\r\nhello\r\n" (RESP3 adds ! and =).
_BLOB_TYPES = frozenset(b"$!=")
# Aggregates of N elements (RESP3 adds sets and pushes).
_ARRAY_TYPES = frozenset(b"*~>")
# Aggregates of N key/value pairs.
_MAP_TYPES = frozenset(b"%|")


class ReplyFramingError(Exception):
    """The server sent bytes that are not a well-formed RESP reply."""


class ReplyTimeout(Exception):
    """No complete reply arrived in time."""


class ConnectionClosed(Exception):
    """The server closed the connection before a complete reply arrived."""


def encode_command(*args) -> bytes:
    """Encodes args (bytes, str or int) as a RESP multibulk request."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int):
            data = str(arg).encode()
        else:
            raise TypeError(f"cannot encode {type(arg).__name__} argument {arg!r}")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _line_end(buf: bytes, pos: int) -> int | None:
    """Index just past the CRLF of the line starting at pos, or None."""
    idx = buf.find(b"\r\n", pos)
    return None if idx < 0 else idx + 2


def _int_header(buf: bytes, pos: int, end: int) -> int:
    text = buf[pos + 1 : end - 2]
    try:
        return int(text)
    except ValueError:
        raise ReplyFramingError(f"bad length header {buf[pos:end]!r}") from None


def frame_end(buf: bytes, pos: int = 0) -> int | None:
    """Returns the index just past the reply that starts at buf[pos].

    None means the reply is not complete yet. Raises ReplyFramingError when the
    bytes cannot be the start of a RESP reply.
    """
    if pos >= len(buf):
        return None
    kind = buf[pos]
    end = _line_end(buf, pos)
    if end is None:
        return None
    if kind in _LINE_TYPES:
        return end
    if kind in _BLOB_TYPES:
        if buf[pos + 1 : pos + 2] == b"?":
            raise ReplyFramingError("streamed strings are not supported")
        length = _int_header(buf, pos, end)
        if length < 0:  # RESP2 null bulk
            return end
        total = end + length + 2
        if len(buf) < total:
            return None
        if buf[total - 2 : total] != b"\r\n":
            raise ReplyFramingError(f"blob of length {length} not followed by CRLF")
        return total
    if kind in _ARRAY_TYPES or kind in _MAP_TYPES:
        count = _int_header(buf, pos, end)
        if count < 0:  # RESP2 null array
            return end
        if kind in _MAP_TYPES:
            count *= 2
        cur = end
        for _ in range(count):
            nxt = frame_end(buf, cur)
            if nxt is None:
                return None
            cur = nxt
        if kind == ord("|"):
            # An attribute annotates the reply that follows it: both are one frame.
            return frame_end(buf, cur)
        return cur
    raise ReplyFramingError(f"unknown reply type byte {bytes([kind])!r} in {buf[pos:pos + 64]!r}")


class ErrorReply:
    """A decoded error reply; compares equal to another with the same text."""

    def __init__(self, text: bytes):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, ErrorReply) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return f"ErrorReply({self.text!r})"


def _decode_at(buf: bytes, pos: int):
    kind = buf[pos]
    end = _line_end(buf, pos)
    body = buf[pos + 1 : end - 2]
    if kind == ord("+"):
        return body, end
    if kind == ord("-") or kind == ord("!"):
        if kind == ord("!"):
            length = int(body)
            return ErrorReply(buf[end : end + length]), end + length + 2
        return ErrorReply(body), end
    if kind == ord(":") or kind == ord("("):
        return int(body), end
    if kind == ord("_"):
        return None, end
    if kind == ord(","):
        return float(body), end
    if kind == ord("#"):
        return body == b"t", end
    if kind in _BLOB_TYPES:
        length = int(body)
        if length < 0:
            return None, end
        return buf[end : end + length], end + length + 2
    if kind in _ARRAY_TYPES or kind in _MAP_TYPES:
        count = int(body)
        if count < 0:
            return None, end
        cur = end
        items = []
        for _ in range(count * (2 if kind in _MAP_TYPES else 1)):
            item, cur = _decode_at(buf, cur)
            items.append(item)
        if kind in _MAP_TYPES:
            pairs = list(zip(items[0::2], items[1::2]))
            if kind == ord("|"):
                return _decode_at(buf, cur)  # attributes are dropped
            return pairs, cur
        return items, cur
    raise ReplyFramingError(f"unknown reply type {bytes([kind])!r}")


def decode(raw: bytes):
    """Decodes one raw reply into Python values.

    Simple and bulk strings become bytes, integers int, nulls None, arrays
    lists, maps lists of (key, value) pairs, errors ErrorReply.
    """
    value, end = _decode_at(raw, 0)
    if end != len(raw):
        raise ReplyFramingError(f"trailing bytes after reply: {raw[end:]!r}")
    return value


class RawClient:
    """One TCP connection that speaks raw RESP bytes."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def send(self, data: bytes):
        self.sock.sendall(data)

    def read_reply(self, timeout: float | None = None) -> bytes:
        """Reads exactly one complete reply and returns its raw bytes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            end = frame_end(self.buf)
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReplyTimeout(f"no complete reply within the timeout; got so far {self.buf[:200]!r}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed(f"connection closed; partial reply {self.buf[:200]!r}")
            self.buf += chunk

    def call(self, *args, timeout: float | None = None) -> bytes:
        """Sends one command as a multibulk request and returns the raw reply."""
        self.send(encode_command(*args))
        return self.read_reply(timeout)

    def pipeline(self, commands, timeout: float | None = None) -> list[bytes]:
        """Sends all commands in one write, then reads one reply per command."""
        self.send(b"".join(encode_command(*c) for c in commands))
        return [self.read_reply(timeout) for _ in commands]

    def wait_closed(self, timeout: float = 3.0):
        """Waits for the server to close the connection.

        Returns (closed, extra): closed is True when EOF or a reset arrived
        within the timeout; extra holds any bytes the server sent meanwhile.
        """
        deadline = time.monotonic() + timeout
        extra = self.buf
        self.buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False, extra
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True, extra
            if not chunk:
                return True, extra
            extra += chunk
