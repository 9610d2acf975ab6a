"""Differential tests: the same command sequences against a real redis-server
(the reference) and against the server under test, comparing every raw reply
byte for byte.

Each case runs on a fresh connection to each server after FLUSHALL. Steps are
interleaved (one step on the reference, the same step on the server under
test), so time-dependent replies are taken at nearly the same moment; TTL/PTTL
replies are compared with a tolerance, KEYS replies as sorted lists and SCAN as
the set of keys gathered over a full iteration (cursors differ by design).
Where a step carries `expect`, the reference's reply must also equal it: that
pins the Redis behaviour the case is about and keeps the table honest.

Most cases are ported from Redis 7.0's own test suite (tests/unit/type/incr.tcl,
keyspace.tcl, scan.tcl, protocol.tcl, expire.tcl, type/string.tcl); the rest
cover the error cases of every command in scope.

Deliberately NOT compared (Tally differs by design, or Redis behaviour that is
not observable the same way):
  - SCAN cursor values, and cursors Redis 7.0 happens to accept although they
    are not cursors it handed out ("SCAN -1", "SCAN ''"): Tally's cursors are
    opaque ids. Cursors that are not numbers at all must fail alike.
  - Everything about non-string types (lists, sets, hashes...: WRONGTYPE cases,
    SSCAN/HSCAN/ZSCAN, SCAN TYPE list finding lists), OBJECT/DEBUG based tests
    (refcounts, encodings, DEBUG POPULATE is replaced by MSET,
    set-active-expire), RENAME/COPY/MOVE/RANDOMKEY. The commands on string
    values beyond GET/SET (APPEND, GETRANGE, SETRANGE, GETEX, LCS, bitmaps,
    HyperLogLog, EXPIRETIME, TOUCH) have their cases in
    test_differential_types.py.
  - Multiple databases: the reference runs with --databases 1 like Tally.
  - DBSIZE just after keys expired without being touched: Redis counts them
    until its active-expire cycle reaps them, which is timing dependent.
  - HELLO's server/version/id fields (only the shape of the reply is compared).
  - Redis not checking the two bytes after a bulk payload ("$3\\r\\nabcXY" is
    accepted as "abc"), and replication/AOF propagation tests.
"""

from __future__ import annotations

import time

import pytest

from resp_client import (ConnectionClosed, RawClient, ReplyTimeout, decode,
                         encode_command)

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
NOT_FLOAT = b"-ERR value is not a valid float\r\n"
SYNTAX = b"-ERR syntax error\r\n"
OVERFLOW = b"-ERR increment or decrement would overflow\r\n"
NAN_INF = b"-ERR increment would produce NaN or Infinity\r\n"
OK = b"+OK\r\n"
NIL = b"$-1\r\n"


def arity_error(cmd: str) -> bytes:
    return f"-ERR wrong number of arguments for '{cmd}' command\r\n".encode()


def expire_error(cmd: str) -> bytes:
    return f"-ERR invalid expire time in '{cmd}' command\r\n".encode()


def bulk(data) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return b"$%d\r\n%s\r\n" % (len(data), data)


def integer(n: int) -> bytes:
    return b":%d\r\n" % n


def proto_error(text: str) -> bytes:
    return f"-ERR Protocol error: {text}\r\n".encode()


def now_s(delta: int):
    """An argument evaluated when the step runs: unix time + delta seconds."""
    return lambda: str(int(time.time()) + delta)


def now_ms(delta: int):
    return lambda: str(int(time.time() * 1000) + delta)


# ---------------------------------------------------------------------------
# steps


class Cmd:
    """One command sent as a multibulk request; one reply read."""

    def __init__(self, *args, cmp="exact", tol=0, expect=None):
        self.args = args
        self.cmp = cmp
        self.tol = tol
        self.expect = expect

    def describe(self):
        shown = [a if isinstance(a, (str, bytes)) else "<now>" for a in self.args]
        text = " ".join(repr(a) if isinstance(a, bytes) else a for a in shown)
        return text if len(text) < 200 else text[:200] + f"... ({len(text)} chars)"


def C(*args, expect=None):
    """Replies must be identical bytes."""
    return Cmd(*args, expect=expect)


def TTL(*args):
    """An integer reply in seconds that depends on time: equal when negative,
    else within 2 s."""
    return Cmd(*args, cmp="ttl", tol=2)


def PTTL(*args):
    return Cmd(*args, cmp="ttl", tol=2000)


def SORTED(*args, expect=None):
    """An array whose order is unspecified (KEYS): compared sorted."""
    return Cmd(*args, cmp="sorted", expect=expect)


class Raw:
    """Arbitrary bytes (one write, or several chunks with a pause between),
    then `replies` replies; with closes=True the server must then close the
    connection."""

    def __init__(self, data, replies=1, closes=False, expect=None, pause=0.05):
        self.chunks = data if isinstance(data, list) else [data]
        self.replies = replies
        self.closes = closes
        self.expect = expect
        self.pause = pause

    def describe(self):
        data = b"".join(self.chunks)
        shown = repr(data[:120]) + (f"... ({len(data)} bytes)" if len(data) > 120 else "")
        return f"raw {shown} in {len(self.chunks)} write(s)"


class Sleep:
    def __init__(self, seconds):
        self.seconds = seconds


class Reconnect:
    """Replaces both connections with new ones (after QUIT or a close)."""


class ScanAll:
    """A full SCAN iteration from cursor 0 with the given options; the result
    compared is the sorted set of keys (or the error reply of the first call).
    With writes_per_page, that many new keys are written after every page and
    only keys that pass `keep` are compared (SCAN's guarantee is about keys
    present for the whole iteration)."""

    def __init__(self, *options, writes_per_page=0, keep=None, expect_count=None):
        self.options = options
        self.writes_per_page = writes_per_page
        self.keep = keep
        self.expect_count = expect_count

    def describe(self):
        return f"full SCAN iteration with options {self.options!r}"


MAX_SCAN_CALLS = 20000
SCAN_DEADLINE = 30.0


def _resolve(args):
    return tuple(a() if callable(a) else a for a in args)


def run_scan(conn: RawClient, step: ScanAll):
    cursor = b"0"
    keys = set()
    deadline = time.monotonic() + SCAN_DEADLINE
    written = 0
    for calls in range(MAX_SCAN_CALLS):
        raw = conn.call("SCAN", cursor, *step.options)
        value = decode(raw)
        if not isinstance(value, list):
            if calls == 0:
                return ("error", raw)
            return ("error after %d calls" % calls, raw)
        if len(value) != 2 or not isinstance(value[0], bytes) or not isinstance(value[1], list):
            return ("malformed page", raw)
        cursor, page = value
        keys.update(page)
        if cursor == b"0":
            if step.keep:
                keys = {k for k in keys if step.keep(k)}
            return ("keys", sorted(keys))
        for _ in range(step.writes_per_page):
            conn.call("SET", f"addedkey:{written % 1000}", "foo")
            written += 1
        if time.monotonic() > deadline:
            return ("no end", f"iteration did not end within {SCAN_DEADLINE}s ({calls + 1} calls)")
    return ("no end", f"iteration did not end within {MAX_SCAN_CALLS} calls")


def run_step(conn: RawClient, step, args=None):
    """Runs one step on one connection; returns a comparable outcome."""
    try:
        if isinstance(step, Cmd):
            return conn.call(*args)
        if isinstance(step, ScanAll):
            return run_scan(conn, step)
        if isinstance(step, Raw):
            for i, chunk in enumerate(step.chunks):
                if i:
                    time.sleep(step.pause)
                try:
                    conn.send(chunk)
                except (BrokenPipeError, ConnectionResetError) as e:
                    return ("send failed", repr(e))
            replies = tuple(conn.read_reply() for _ in range(step.replies))
            if not step.closes:
                return replies
            closed, extra = conn.wait_closed(3.0)
            return replies + (("closed" if closed else "still open", extra),)
    except ReplyTimeout as e:
        return ("timeout", str(e))
    except ConnectionClosed as e:
        return ("connection closed", str(e))
    raise TypeError(step)


def _ttl_equal(a, b, tol):
    try:
        x, y = decode(a), decode(b)
    except Exception:
        return a == b
    if not (isinstance(x, int) and isinstance(y, int)):
        return a == b
    if x < 0 or y < 0:
        return x == y
    return abs(x - y) <= tol


def _sorted_equal(a, b):
    try:
        x, y = decode(a), decode(b)
    except Exception:
        return a == b
    if isinstance(x, list) and isinstance(y, list):
        return sorted(x, key=repr) == sorted(y, key=repr)
    return a == b


def outcomes_match(step, ref, tal):
    if isinstance(step, Cmd) and isinstance(ref, bytes) and isinstance(tal, bytes):
        if step.cmp == "ttl":
            return _ttl_equal(ref, tal, step.tol)
        if step.cmp == "sorted":
            return _sorted_equal(ref, tal)
        if step.cmp == "hello":
            return _hello_equal(ref, tal)
        if step.cmp == "hello_resp2":
            return _hello2_equal(ref, tal)
    return ref == tal


def _hello_equal(a, b):
    """HELLO 3: both maps with the same keys and the same proto/mode/role."""
    try:
        x, y = decode(a), decode(b)
    except Exception:
        return False
    if not (a[:1] == b[:1] == b"%" and isinstance(x, list) and isinstance(y, list)):
        return False
    dx, dy = dict(x), dict(y)
    return (sorted(dx) == sorted(dy)
            and all(dx.get(k) == dy.get(k) for k in (b"proto", b"mode", b"role", b"modules")))


def _show(outcome):
    if isinstance(outcome, bytes):
        return repr(outcome if len(outcome) < 600 else outcome[:600] + b"...")
    text = repr(outcome)
    return text if len(text) < 800 else text[:800] + "..."


def check_expect(step, ref):
    if isinstance(step, ScanAll) and step.expect_count is not None:
        assert ref[0] == "keys" and len(ref[1]) == step.expect_count, (
            f"table error: reference SCAN found {_show(ref)[:200]}, expected "
            f"{step.expect_count} keys")
    if getattr(step, "expect", None) is None:
        return
    expected = step.expect
    if isinstance(step, Raw) and isinstance(expected, bytes):
        expected = (expected,)
    if isinstance(step, Raw) and step.closes:
        assert ref[:-1] == tuple(expected) and ref[-1][0] == "closed", (
            f"table error: reference redis-server replied {_show(ref)}, "
            f"table expects {expected!r} then close")
        return
    if isinstance(step, Raw):
        expected = tuple(expected)
    assert ref == expected, (f"table error: reference redis-server replied {_show(ref)} "
                             f"to {step.describe()}, table expects {expected!r}")


def run_case(pair, steps):
    reference, tally = pair
    rc = RawClient("127.0.0.1", reference.port)
    tc = RawClient("127.0.0.1", tally.port)
    transcript = []
    try:
        assert rc.call("FLUSHALL") == OK
        flushed = tc.call("FLUSHALL")
        assert flushed == OK, f"FLUSHALL on the server under test replied {flushed!r}"
        for n, step in enumerate(steps, 1):
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                transcript.append(f"  {n}. sleep {step.seconds}s")
                continue
            if isinstance(step, Reconnect):
                rc.close()
                tc.close()
                rc = RawClient("127.0.0.1", reference.port)
                tc = RawClient("127.0.0.1", tally.port)
                transcript.append(f"  {n}. new connections")
                continue
            args = _resolve(step.args) if isinstance(step, Cmd) else None
            ref = run_step(rc, step, args)
            tal = run_step(tc, step, args)
            check_expect(step, ref)
            ok = outcomes_match(step, ref, tal)
            line = f"  {n}. {step.describe()}\n       redis: {_show(ref)}"
            if not ok:
                line += f"\n       tally: {_show(tal)}   <-- differs"
                if isinstance(step, Cmd) and step.cmp == "ttl":
                    line += f" (tolerance {step.tol})"
            transcript.append(line)
            if not ok:
                pytest.fail("reply differs from redis-server:\n" + "\n".join(transcript))
    finally:
        rc.close()
        tc.close()
    # Every case must leave both servers alive and serving.
    for srv in (reference, tally):
        alive = srv.running
        reply = None
        if alive:
            try:
                with RawClient("127.0.0.1", srv.port, timeout=5) as c:
                    reply = c.call("PING")
            except Exception as e:  # noqa: BLE001 - any failure here is the finding
                reply = repr(e)
        assert alive and reply == b"+PONG\r\n", (
            f"{srv.name} is not serving after the case (running={alive}, PING -> {reply!r})\n"
            + "\n".join(transcript))


# ---------------------------------------------------------------------------
# the table

CASES: dict[str, list] = {}


def case(name, *steps):
    assert name not in CASES, name
    CASES[name] = list(steps)


# ---- tests/unit/type/incr.tcl ------------------------------------------------

case("incr_against_non_existing_key",
     C("INCR", "novar", expect=integer(1)), C("GET", "novar", expect=bulk("1")),
     C("INCR", "novar", expect=integer(2)))
case("incr_against_key_originally_set_with_set",
     C("SET", "novar", "100"), C("INCR", "novar", expect=integer(101)), C("GET", "novar"))
case("incr_over_32bit_value",
     C("SET", "novar", "17179869184"), C("INCR", "novar", expect=integer(17179869185)))
case("incrby_over_32bit_value_with_over_32bit_increment",
     C("SET", "novar", "17179869184"), C("INCRBY", "novar", "17179869184", expect=integer(34359738368)))
for _side, _value in [("left", "    11"), ("right", "11    "), ("both", "    11    ")]:
    case(f"incr_fails_against_key_with_spaces_{_side}",
         C("SET", "novar", _value), C("INCR", "novar", expect=NOT_INT), C("GET", "novar"))
    case(f"incrbyfloat_fails_against_key_with_spaces_{_side}",
         C("SET", "novar", _value), C("INCRBYFLOAT", "novar", "1.0", expect=NOT_FLOAT))
case("decrby_negation_overflow",
     C("SET", "x", "0"), C("DECRBY", "x", LLONG_MIN, expect=b"-ERR decrement would overflow\r\n"),
     C("GET", "x"))
case("decrby_over_32bit_value_with_over_32bit_increment_negative_result",
     C("SET", "novar", "17179869184"), C("DECRBY", "novar", "17179869185", expect=integer(-1)))
case("incr_shared_object_range",
     C("SET", "foo", "-1"), C("INCR", "foo", expect=integer(0)), C("SET", "foo", "9998"),
     C("INCR", "foo"), C("INCR", "foo", expect=integer(10000)), C("GET", "foo"))
case("incr_can_modify_objects_in_place",
     C("SET", "foo", "20000"), C("INCR", "foo"), C("INCR", "foo", expect=integer(20002)))
case("incrbyfloat_against_non_existing_key",
     C("INCRBYFLOAT", "novar", "1", expect=bulk("1")), C("GET", "novar"),
     C("INCRBYFLOAT", "novar", "0.25", expect=bulk("1.25")), C("GET", "novar", expect=bulk("1.25")))
case("incrbyfloat_against_key_originally_set_with_set",
     C("SET", "novar", "1.5"), C("INCRBYFLOAT", "novar", "1.5", expect=bulk("3")))
case("incrbyfloat_over_32bit_value",
     C("SET", "novar", "17179869184"), C("INCRBYFLOAT", "novar", "1.5", expect=bulk("17179869185.5")))
case("incrbyfloat_over_32bit_value_with_over_32bit_increment",
     C("SET", "novar", "17179869184"), C("INCRBYFLOAT", "novar", "17179869184", expect=bulk("34359738368")))
case("incrbyfloat_does_not_allow_nan_or_infinity",
     C("SET", "foo", "0"), C("INCRBYFLOAT", "foo", "+inf", expect=NAN_INF),
     C("INCRBYFLOAT", "foo", "-inf", expect=NAN_INF), C("INCRBYFLOAT", "foo", "inf"),
     C("INCRBYFLOAT", "foo", "nan", expect=NOT_FLOAT), C("INCRBYFLOAT", "foo", "NaN"),
     C("GET", "foo", expect=bulk("0")))
case("incrbyfloat_decrement",
     C("SET", "foo", "1"), C("INCRBYFLOAT", "foo", "-1.1", expect=bulk("-0.1")))
case("string_to_double_with_null_terminator",
     C("SET", "foo", b"1\x002"), C("INCRBYFLOAT", "foo", "1", expect=NOT_FLOAT),
     C("INCR", "foo", expect=NOT_INT), C("GET", "foo"))
case("incrbyfloat_no_negative_zero",
     C("INCRBYFLOAT", "foo", repr(1 / 41)), C("INCRBYFLOAT", "foo", repr(-1 / 41)),
     C("GET", "foo", expect=bulk("0")))

# ---- integer edge cases (incr/decr family) -------------------------------------

case("incr_at_llong_max_overflows",
     C("SET", "k", LLONG_MAX), C("INCR", "k", expect=OVERFLOW), C("GET", "k", expect=bulk(LLONG_MAX)),
     C("INCRBY", "k", "1", expect=OVERFLOW), C("DECR", "k", expect=integer(int(LLONG_MAX) - 1)))
case("decr_at_llong_min_overflows",
     C("SET", "k", LLONG_MIN), C("DECR", "k", expect=OVERFLOW), C("DECRBY", "k", "1", expect=OVERFLOW),
     C("GET", "k", expect=bulk(LLONG_MIN)), C("INCR", "k", expect=integer(int(LLONG_MIN) + 1)))
case("incrby_reaches_llong_max_exactly",
     C("SET", "k", "-1"), C("INCRBY", "k", LLONG_MAX), C("INCR", "k", expect=integer(int(LLONG_MAX))),
     C("INCR", "k", expect=OVERFLOW))
case("incrby_llong_min_on_missing_key",
     C("INCRBY", "k", LLONG_MIN, expect=integer(int(LLONG_MIN))), C("DECR", "k", expect=OVERFLOW),
     C("INCRBY", "k", LLONG_MAX, expect=integer(-1)))
case("incrby_overflow_positive_and_negative",
     C("SET", "k", "1"), C("INCRBY", "k", LLONG_MAX, expect=OVERFLOW),
     C("SET", "k", "-2"), C("INCRBY", "k", LLONG_MIN, expect=OVERFLOW),
     C("DECRBY", "k", LLONG_MAX, expect=OVERFLOW), C("GET", "k", expect=bulk("-2")))
case("decrby_llong_min_on_missing_key",
     C("DECRBY", "k", LLONG_MIN, expect=b"-ERR decrement would overflow\r\n"),
     C("EXISTS", "k", expect=integer(0)))
case("decr_and_decrby_basic",
     C("DECR", "k", expect=integer(-1)), C("DECRBY", "k", "10", expect=integer(-11)),
     C("DECRBY", "k", "-20", expect=integer(9)), C("INCRBY", "k", "-9", expect=integer(0)),
     C("GET", "k", expect=bulk("0")))

# Values stored as strings that INCR must reject, or accept, exactly as Redis.
_STORED_VALUES = {
    "abc": "abc", "empty": "", "decimal": "1.5", "exponent": "1e3", "plus_sign": "+1",
    "leading_zero": "01", "double_zero": "00", "minus_zero": "-0", "leading_space": " 1",
    "trailing_space": "1 ", "hex": "0x10", "llong_max_plus_1": "9223372036854775808",
    "llong_min_minus_1": "-9223372036854775809", "twenty_three_digits": "12345678901234567890123",
    "trailing_nul": b"1\x00", "crlf": b"1\r\n", "unicode_digit": "\u0661", "minus_only": "-",
    "zero": "0", "minus_one": "-1", "llong_min_plus_1": "-9223372036854775807",
    "nineteen_digits": "1000000000000000000",
}
for _name, _value in _STORED_VALUES.items():
    case(f"incr_on_stored_value_{_name}",
         C("SET", "k", _value), C("INCR", "k"), C("DECR", "k"), C("INCRBY", "k", "3"),
         C("DECRBY", "k", "3"), C("GET", "k"))

# Increment arguments parsed as integers.
_INCREMENTS = {
    "plus_sign": "+5", "leading_space": " 5", "trailing_space": "5 ", "leading_zero": "05",
    "decimal": "5.0", "empty": "", "abc": "abc", "llong_max_plus_1": "9223372036854775808",
    "llong_min_minus_1": "-9223372036854775809", "minus_zero": "-0", "zero": "0",
    "negative": "-7", "exponent": "1e2", "nul": b"5\x00",
}
for _name, _value in _INCREMENTS.items():
    case(f"incrby_decrby_increment_{_name}",
         C("SET", "k", "10"), C("INCRBY", "k", _value), C("DECRBY", "k", _value), C("GET", "k"))

case("incr_keeps_ttl",
     C("SET", "k", "1", "EX", "100"), C("INCR", "k", expect=integer(2)), TTL("TTL", "k"),
     C("INCRBY", "k", "5"), C("DECR", "k"), C("DECRBY", "k", "2"), C("INCRBYFLOAT", "k", "1.5"),
     PTTL("PTTL", "k"), TTL("TTL", "k"), C("GET", "k", expect=bulk("5.5")))
case("incr_result_types",
     C("INCR", "k", expect=integer(1)), C("GET", "k", expect=bulk("1")),
     C("STRLEN", "k", expect=integer(1)), C("TYPE", "k", expect=b"+string\r\n"),
     C("INCRBYFLOAT", "k", "1", expect=bulk("2")), C("INCR", "k", expect=integer(3)))

# INCRBYFLOAT formatting and parsing (Redis uses long double and prints with
# %.17Lf, trailing zeros removed).
case("incrbyfloat_docs_example",
     C("SET", "mykey", "10.50"), C("INCRBYFLOAT", "mykey", "0.1", expect=bulk("10.6")),
     C("INCRBYFLOAT", "mykey", "-5", expect=bulk("5.6")), C("SET", "mykey", "5.0e3"),
     C("INCRBYFLOAT", "mykey", "2.0e2", expect=bulk("5200")), C("GET", "mykey"))
case("incrbyfloat_point_one_plus_point_two",
     C("INCRBYFLOAT", "k", "0.1"), C("INCRBYFLOAT", "k", "0.2", expect=bulk("0.3")), C("GET", "k"))
case("incrbyfloat_one_third",
     C("INCRBYFLOAT", "k", "0.333333333333333333333", expect=bulk("0.33333333333333333")))
case("incrbyfloat_small_and_large_magnitudes",
     C("INCRBYFLOAT", "a", "1"), C("INCRBYFLOAT", "a", "1e-5", expect=bulk("1.00001")),
     C("INCRBYFLOAT", "b", "1.5e-10"), C("INCRBYFLOAT", "c", "1e17"),
     C("INCRBYFLOAT", "d", "-123456.789e3"), C("INCRBYFLOAT", "e", ".5", expect=bulk("0.5")),
     C("INCRBYFLOAT", "f", "5."), C("INCRBYFLOAT", "g", "-.5"), C("INCRBYFLOAT", "h", "1E2"))
case("incrbyfloat_invalid_increments",
     C("SET", "k", "1"), C("INCRBYFLOAT", "k", "", expect=NOT_FLOAT), C("INCRBYFLOAT", "k", " 1"),
     C("INCRBYFLOAT", "k", "1 "), C("INCRBYFLOAT", "k", "1e"), C("INCRBYFLOAT", "k", "abc"),
     C("INCRBYFLOAT", "k", "1_000"), C("INCRBYFLOAT", "k", "1e5000", expect=NOT_FLOAT),
     C("INCRBYFLOAT", "k", b"1\x00"), C("INCRBYFLOAT", "k", "--1"), C("GET", "k", expect=bulk("1")))
case("incrbyfloat_on_non_float_values",
     C("SET", "k", "abc"), C("INCRBYFLOAT", "k", "1", expect=NOT_FLOAT),
     C("SET", "k", ""), C("INCRBYFLOAT", "k", "1", expect=NOT_FLOAT),
     C("SET", "k", "inf"), C("INCRBYFLOAT", "k", "1", expect=NAN_INF),
     C("SET", "k", "1.5"), C("INCR", "k", expect=NOT_INT), C("INCRBY", "k", "1", expect=NOT_INT))
case("incrbyfloat_hex_increment",  # strtold() accepts hex floats, so Redis does
     C("INCRBYFLOAT", "k", "0x10", expect=bulk("16")), C("GET", "k"))
case("incrbyfloat_beyond_double_range",  # long double range
     C("INCRBYFLOAT", "k", "1e400"), C("STRLEN", "k"))
case("incrbyfloat_integer_result_then_incr",
     C("SET", "k", "10"), C("INCRBYFLOAT", "k", "5", expect=bulk("15")),
     C("INCR", "k", expect=integer(16)), C("INCRBYFLOAT", "k", "-16", expect=bulk("0")),
     C("INCRBYFLOAT", "k", "-0.0"), C("GET", "k"))

# ---- tests/unit/keyspace.tcl -----------------------------------------------------

case("del_against_a_single_item",
     C("SET", "x", "foo"), C("GET", "x", expect=bulk("foo")), C("DEL", "x", expect=integer(1)),
     C("GET", "x", expect=NIL))
case("vararg_del",
     C("SET", "foo1", "a"), C("SET", "foo2", "b"), C("SET", "foo3", "c"),
     C("DEL", "foo1", "foo2", "foo3", "foo4", expect=integer(3)),
     C("MGET", "foo1", "foo2", "foo3", expect=b"*3\r\n$-1\r\n$-1\r\n$-1\r\n"))
case("untagged_multi_key_commands",
     C("MSET", "foo1", "a", "foo2", "b", "foo3", "c", expect=OK),
     C("MGET", "foo1", "foo2", "foo3", "foo4", expect=b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$-1\r\n"),
     C("DEL", "foo1", "foo2", "foo3", "foo4", expect=integer(3)))
case("keys_with_pattern_and_dbsize",
     *[C("SET", k, "hello") for k in ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"]],
     SORTED("KEYS", "foo*"), SORTED("KEYS", "*"), C("DBSIZE", expect=integer(6)))
case("keys_with_hashtag",
     *[C("SET", k, "hello") for k in ["{a}x", "{a}y", "{a}z", "{b}a", "{b}b", "{b}c"]],
     SORTED("KEYS", "{a}*"), SORTED("KEYS", "*{b}*"))
case("del_all_keys",
     C("MSET", "a", "1", "b", "2", "c", "3"), C("DEL", "a", "b", "c", expect=integer(3)),
     C("DBSIZE", expect=integer(0)), SORTED("KEYS", "*", expect=b"*0\r\n"))
case("del_against_expired_key",
     C("PSETEX", "keyExpire", "100", "valExpire"), Sleep(0.25), C("DEL", "keyExpire", expect=integer(0)))
case("exists",
     C("SET", "newkey", "test"), C("EXISTS", "newkey", expect=integer(1)), C("DEL", "newkey"),
     C("EXISTS", "newkey", expect=integer(0)))
case("exists_counts_repeated_keys",
     C("MSET", "a", "1", "b", "2"), C("EXISTS", "a", "a", "b", "c", "a", expect=integer(4)))
case("zero_length_value_in_key",
     C("SET", "emptykey", ""), C("GET", "emptykey", expect=b"$0\r\n\r\n"),
     C("EXISTS", "emptykey", expect=integer(1)), C("STRLEN", "emptykey", expect=integer(0)),
     C("DEL", "emptykey"), C("EXISTS", "emptykey", expect=integer(0)))
case("commands_pipelining",
     Raw(b"SET k1 xyzk\r\nGET k1\r\nPING\r\n", replies=3, expect=(OK, bulk("xyzk"), b"+PONG\r\n")))
case("non_existing_command",
     C("foobaredcommand", expect=b"-ERR unknown command 'foobaredcommand', with args beginning with: \r\n"))
case("keys_star_two_times_with_long_key",
     C("SET", "dlskeriewrioeuwqoirueioqwrueoqwrueqw", "test"), SORTED("KEYS", "*"), SORTED("KEYS", "*"))
case("regression_for_pattern_matching_long_nested_loops",
     C("SET", "a" * 144, "1"),
     C("KEYS", "a*" * 50 + "b", expect=b"*0\r\n"))
case("regression_for_pattern_matching_very_long_nested_loops",
     C("SET", "a" * 144, "1"),
     C("KEYS", "*?" * 50000, expect=b"*0\r\n"))
case("type_of_missing_and_string_keys",
     C("TYPE", "nokey", expect=b"+none\r\n"), C("SET", "s", "v"), C("TYPE", "s", expect=b"+string\r\n"),
     C("INCR", "n"), C("TYPE", "n", expect=b"+string\r\n"))
case("unlink_like_del",
     C("MSET", "a", "1", "b", "2"), C("UNLINK", "a", "b", "c", expect=integer(2)),
     C("UNLINK", "a", expect=integer(0)), C("DBSIZE", expect=integer(0)))
case("dbsize_flushdb_flushall",
     C("MSET", "a", "1", "b", "2", "c", "3"), C("DBSIZE", expect=integer(3)),
     C("FLUSHDB", expect=OK), C("DBSIZE", expect=integer(0)), C("SET", "a", "1"),
     C("FLUSHALL", "ASYNC", expect=OK), C("DBSIZE", expect=integer(0)), C("SET", "a", "1"),
     C("FLUSHDB", "sync", expect=OK), C("FLUSHALL", "SYNC"), C("FLUSHDB", "ASYNC"),
     C("FLUSHALL", "foo", expect=SYNTAX), C("FLUSHDB", "foo", expect=SYNTAX),
     C("FLUSHALL", "ASYNC", "SYNC", expect=SYNTAX), C("FLUSHDB", "SYNC", "SYNC"))

# ---- KEYS glob patterns (stringmatchlen) -------------------------------------------

GLOB_KEYS = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[e]llo",
             "h\\llo", "h]llo", "h-llo", "h^llo", "a\x00b", "a\r\nb", "ab", "[", "]", "\\", "*",
             "?", "-", "", "usage:webo-news-overlay", "usage:x", "usagex", "Hello", "HELLO"]
GLOB_PATTERNS = {
    "star": "*", "h_question_llo": "h?llo", "h_star_llo": "h*llo", "class": "h[ae]llo",
    "negated_class": "h[^e]llo", "range": "h[a-b]llo", "reversed_range": "h[b-a]llo",
    "escaped_star": "h\\*llo", "escaped_question": "h\\?llo", "escaped_bracket": "h\\[e]llo",
    "escaped_backslash": "h\\\\llo", "bracket_in_class": "h[\\]]llo", "dash_first_in_class": "h[-a]llo",
    "dash_last_in_class": "h[a-]llo", "caret_class": "h[\\^]llo", "unterminated_class": "h[",
    "unterminated_class_after_char": "h[e", "lone_open_bracket": "[", "escaped_open_bracket": "\\[",
    "lone_backslash": "\\", "trailing_backslash": "h\\", "question_matches_nul": "a?b",
    "star_matches_crlf": "a*b", "crlf_literal": "a\r\nb", "prefix": "usage:*", "suffix": "*llo",
    "infix": "*ll*", "question_only": "?", "two_questions": "??", "empty_pattern": "",
    "star_star": "**", "case_sensitive": "H*", "class_in_middle_of_star": "*[xy]*",
    "nul_in_pattern": "a\x00b", "range_class_digits": "usage[:x]*", "many_stars": "*h*e*l*l*o*",
    "empty_class": "h[]llo", "negated_empty_class": "h[^]llo",
}
for _name, _pattern in GLOB_PATTERNS.items():
    case(f"keys_glob_{_name}",
         C("MSET", *[x for k in GLOB_KEYS for x in (k, "v")]), SORTED("KEYS", _pattern))

# ---- tests/unit/scan.tcl (key sets, never cursors) -----------------------------------


def populate(n, prefix="key"):
    """Like DEBUG POPULATE n: keys key:0..key:n-1 with values value:N, in MSET batches."""
    steps = []
    for start in range(0, n, 500):
        args = []
        for i in range(start, min(n, start + 500)):
            args += [f"{prefix}:{i}", f"value:{i}"]
        steps.append(C("MSET", *args))
    return steps


case("scan_basic", *populate(1000), ScanAll(expect_count=1000))
case("scan_count", *populate(1000), ScanAll("COUNT", "5"))
case("scan_match", *populate(1000), ScanAll("MATCH", "key:1??"))
case("scan_match_and_count", *populate(1000), ScanAll("COUNT", "7", "MATCH", "key:*5"),
     ScanAll("match", "key:99*", "count", "1000"))
case("scan_type_string", *populate(300), ScanAll("TYPE", "string"), ScanAll("TYPE", "STRING"))
case("scan_type_other", *populate(300), ScanAll("TYPE", "list"), ScanAll("TYPE", "foo"))
case("scan_with_expired_keys",
     *populate(1000), *[C("SET", f"foo{i}", "bar", "PX", "1") for i in range(100)], Sleep(0.05),
     ScanAll("COUNT", "10"))
case("scan_guarantees_check_under_write_load",
     *populate(100), ScanAll(writes_per_page=10, keep=lambda k: len(k) <= 6))
case("scan_empty_db", C("SCAN", "0", expect=b"*2\r\n$1\r\n0\r\n*0\r\n"), ScanAll())
case("scan_binary_keys",
     C("MSET", *[x for k in GLOB_KEYS for x in (k, "v")]), ScanAll(), ScanAll("MATCH", "a?b"),
     ScanAll("MATCH", "h[ae]llo"), ScanAll("MATCH", "h\\*llo"), ScanAll("MATCH", "*\r\n*"))
case("scan_errors",
     C("SET", "k", "v"),
     C("SCAN", expect=arity_error("scan")), C("SCAN", "abc", expect=b"-ERR invalid cursor\r\n"),
     C("SCAN", "1.5", expect=b"-ERR invalid cursor\r\n"),
     C("SCAN", "18446744073709551616", expect=b"-ERR invalid cursor\r\n"),
     C("SCAN", "0", "COUNT", "0", expect=SYNTAX), C("SCAN", "0", "COUNT", "-1", expect=SYNTAX),
     C("SCAN", "0", "COUNT", "abc", expect=NOT_INT), C("SCAN", "0", "COUNT", "", expect=NOT_INT),
     C("SCAN", "0", "COUNT", "99999999999999999999", expect=NOT_INT),
     C("SCAN", "0", "MATCH", expect=SYNTAX), C("SCAN", "0", "COUNT", expect=SYNTAX),
     C("SCAN", "0", "TYPE", expect=SYNTAX), C("SCAN", "0", "FOO", "bar", expect=SYNTAX),
     C("SCAN", "0", "COUNT", "10", "extra", expect=SYNTAX))

# ---- tests/unit/expire.tcl (string parts) -----------------------------------------------

case("expire_set_timeouts_multiple_times",
     C("SET", "x", "foobar"), C("EXPIRE", "x", "5", expect=integer(1)), TTL("TTL", "x"),
     C("EXPIRE", "x", "10", expect=integer(1)), TTL("TTL", "x"), C("GET", "x", expect=bulk("foobar")))
case("expire_key_no_longer_here_after_expiry",
     C("SET", "x", "foobar"), C("PEXPIRE", "x", "100", expect=integer(1)), Sleep(0.25),
     C("GET", "x", expect=NIL), C("EXISTS", "x", expect=integer(0)), TTL("TTL", "x"))
case("expireat_check_for_expire_alike_behavior",
     C("SET", "x", "foo"), C("EXPIREAT", "x", now_s(15), expect=integer(1)), TTL("TTL", "x"))
case("setex_set_and_expire_combo",
     C("SETEX", "x", "12", "test", expect=OK), TTL("TTL", "x"), C("GET", "x", expect=bulk("test")),
     C("SETEX", "y", "1", "foo"), C("GET", "y", expect=bulk("foo")))
case("setex_wait_for_key_to_expire",
     C("PSETEX", "y", "100", "foo", expect=OK), Sleep(0.25), C("GET", "y", expect=NIL))
case("setex_wrong_time_parameter",
     C("SETEX", "z", "-10", "foo", expect=expire_error("setex")),
     C("SETEX", "z", "0", "foo", expect=expire_error("setex")),
     C("SETEX", "z", "abc", "foo", expect=NOT_INT), C("SETEX", "z", "1.5", "foo", expect=NOT_INT),
     C("SETEX", "z", LLONG_MAX, "foo", expect=expire_error("setex")),
     C("SETEX", "z", LLONG_MIN, "foo"),
     C("PSETEX", "z", "0", "foo", expect=expire_error("psetex")),
     C("PSETEX", "z", "-1", "foo", expect=expire_error("psetex")),
     C("PSETEX", "z", LLONG_MAX, "foo", expect=expire_error("psetex")),
     C("PSETEX", "z", "", "foo", expect=NOT_INT), C("EXISTS", "z", expect=integer(0)))
case("persist_can_undo_an_expire",
     C("SET", "x", "foo"), C("EXPIRE", "x", "50"), TTL("TTL", "x"), C("PERSIST", "x", expect=integer(1)),
     C("TTL", "x", expect=integer(-1)), C("GET", "x", expect=bulk("foo")),
     C("PERSIST", "x", expect=integer(0)))
case("persist_returns_0_against_non_existing_or_non_volatile_keys",
     C("SET", "x", "foo"), C("PERSIST", "foo", expect=integer(0)),
     C("PERSIST", "nokeyatall", expect=integer(0)), C("PERSIST", "x", expect=integer(0)))
case("pexpire_psetex_pexpireat_sub_second",  # generous times: a loaded CI disk is slow
     C("PSETEX", "x", "400", "somevalue"), C("GET", "x", expect=bulk("somevalue")),
     C("SET", "y", "somevalue"), C("PEXPIRE", "y", "400"), C("GET", "y"),
     C("SET", "z", "somevalue"), C("PEXPIREAT", "z", now_ms(400)), C("GET", "z"),
     Sleep(0.7), C("GET", "x", expect=NIL), C("GET", "y", expect=NIL), C("GET", "z", expect=NIL))
case("ttl_returns_time_to_live_in_seconds",
     C("SETEX", "x", "10", "somevalue"), TTL("TTL", "x"))
case("pttl_returns_time_to_live_in_milliseconds",
     C("SETEX", "x", "1", "somevalue"), PTTL("PTTL", "x"))
case("ttl_pttl_minus_one_if_no_expire",
     C("SET", "x", "hello"), C("TTL", "x", expect=integer(-1)), C("PTTL", "x", expect=integer(-1)))
case("ttl_pttl_minus_two_if_key_does_not_exist",
     C("TTL", "x", expect=integer(-2)), C("PTTL", "x", expect=integer(-2)))
case("lazy_expire_on_read",
     C("PSETEX", "key1", "500", "a"), C("PSETEX", "key2", "500", "a"), C("PSETEX", "key3", "500", "a"),
     C("DBSIZE", expect=integer(3)), Sleep(0.7),
     C("MGET", "key1", "key2", "key3", expect=b"*3\r\n$-1\r\n$-1\r\n$-1\r\n"),
     C("DBSIZE", expect=integer(0)))
case("expire_should_not_resurrect_keys",
     C("SET", "foo", "bar"), C("PEXPIRE", "foo", "100"), Sleep(0.25),
     C("EXPIRE", "foo", "10", expect=integer(0)), C("EXISTS", "foo", expect=integer(0)))
case("five_keys_in_five_keys_out",
     C("SET", "a", "c"), C("EXPIRE", "a", "5"), C("SET", "t", "c"), C("SET", "e", "c"),
     C("SET", "s", "c"), C("SET", "foo", "b"), SORTED("KEYS", "*"))
case("expire_with_empty_string_as_ttl",
     C("SET", "foo", "bar"), C("EXPIRE", "foo", "", expect=NOT_INT), C("PEXPIRE", "foo", ""),
     C("EXPIREAT", "foo", ""), C("PEXPIREAT", "foo", ""), C("TTL", "foo", expect=integer(-1)))
case("set_command_will_remove_expire",
     C("SET", "foo", "bar", "EX", "100"), C("SET", "foo", "bar"), C("TTL", "foo", expect=integer(-1)))
case("set_keepttl_option",
     C("SET", "foo", "bar", "EX", "100"), C("SET", "foo", "bar2", "KEEPTTL", expect=OK),
     TTL("TTL", "foo"), C("GET", "foo", expect=bulk("bar2")), C("SET", "foo", "bar3", "keepttl"),
     TTL("TTL", "foo"), C("SET", "new", "v", "KEEPTTL"), C("TTL", "new", expect=integer(-1)))
case("expire_nx_option",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "NX", expect=integer(0)),
     TTL("TTL", "foo"), C("SET", "bar", "x"), C("EXPIRE", "bar", "200", "NX", expect=integer(1)),
     TTL("TTL", "bar"), C("EXPIRE", "missing", "200", "NX", expect=integer(0)))
case("expire_xx_option",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "XX", expect=integer(1)),
     TTL("TTL", "foo"), C("SET", "bar", "x"), C("EXPIRE", "bar", "200", "XX", expect=integer(0)),
     C("TTL", "bar", expect=integer(-1)), C("EXPIRE", "missing", "200", "xx", expect=integer(0)))
case("expire_gt_option",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "GT", expect=integer(1)),
     C("EXPIRE", "foo", "100", "GT", expect=integer(0)), TTL("TTL", "foo"),
     C("SET", "bar", "x"), C("EXPIRE", "bar", "200", "GT", expect=integer(0)),
     C("TTL", "bar", expect=integer(-1)), C("PEXPIRE", "foo", "300000", "gt", expect=integer(1)),
     PTTL("PTTL", "foo"))
case("expire_lt_option",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "LT", expect=integer(0)),
     C("EXPIRE", "foo", "50", "LT", expect=integer(1)), TTL("TTL", "foo"),
     C("SET", "bar", "x"), C("EXPIRE", "bar", "200", "LT", expect=integer(1)), TTL("TTL", "bar"))
case("expire_lt_and_xx_options",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "LT", "XX", expect=integer(0)),
     C("EXPIRE", "foo", "50", "XX", "LT", expect=integer(1)), TTL("TTL", "foo"),
     C("SET", "bar", "x"), C("EXPIRE", "bar", "50", "LT", "XX", expect=integer(0)))
case("expire_gt_and_xx_and_repeated_options",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "200", "GT", "XX", "GT", expect=integer(1)),
     C("EXPIRE", "foo", "300", "NX", "NX"), TTL("TTL", "foo"))
case("expire_conflicting_and_unsupported_options",
     C("SET", "foo", "bar"),
     C("EXPIRE", "foo", "200", "LT", "GT",
       expect=b"-ERR GT and LT options at the same time are not compatible\r\n"),
     C("EXPIRE", "foo", "200", "NX", "GT",
       expect=b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
     C("EXPIRE", "foo", "200", "NX", "XX"), C("EXPIRE", "foo", "200", "NX", "LT"),
     C("PEXPIRE", "foo", "200", "xx", "nx"), C("EXPIREAT", "foo", now_s(200), "GT", "LT"),
     C("EXPIRE", "foo", "200", "AB", expect=b"-ERR Unsupported option AB\r\n"),
     C("EXPIRE", "foo", "200", "NX", "ab"), C("PEXPIREAT", "foo", now_ms(200000), "KEEPTTL"),
     C("TTL", "foo", expect=integer(-1)))
case("expire_with_negative_expiry",
     C("SET", "foo", "bar", "EX", "100"), C("EXPIRE", "foo", "-10", "LT", expect=integer(1)),
     C("TTL", "foo", expect=integer(-2)), C("SET", "foo", "bar"),
     C("EXPIRE", "foo", "-1", expect=integer(1)), C("EXISTS", "foo", expect=integer(0)),
     C("SET", "foo", "bar"), C("EXPIRE", "foo", "0", expect=integer(1)),
     C("GET", "foo", expect=NIL), C("SET", "foo", "bar"), C("PEXPIRE", "foo", "-100"),
     C("EXISTS", "foo", expect=integer(0)))
case("expire_on_missing_key",
     C("EXPIRE", "nokey", "100", expect=integer(0)), C("PEXPIRE", "nokey", "100"),
     C("EXPIREAT", "nokey", now_s(100)), C("PEXPIREAT", "nokey", now_ms(100000)),
     C("EXPIRE", "nokey", "-1", expect=integer(0)), C("EXISTS", "nokey", expect=integer(0)))
case("expire_with_big_integer_overflow",
     C("SET", "foo", "bar"),
     C("EXPIRE", "foo", "9223370399119966", expect=expire_error("expire")),
     C("EXPIRE", "foo", "9223372036854775", expect=expire_error("expire")),
     C("EXPIRE", "foo", LLONG_MAX, expect=expire_error("expire")),
     C("EXPIREAT", "foo", LLONG_MAX, expect=expire_error("expireat")),
     C("PEXPIRE", "foo", LLONG_MAX, expect=expire_error("pexpire")),
     C("PEXPIRE", "foo", "9223372036854770000", expect=expire_error("pexpire")),
     C("EXPIRE", "foo", "9223372036854775808", expect=NOT_INT),
     C("EXPIRE", "foo", "1.5", expect=NOT_INT), C("EXPIRE", "foo", "abc", expect=NOT_INT),
     C("TTL", "foo", expect=integer(-1)))
case("expire_with_big_negative_integer",
     C("SET", "foo", "bar"),
     C("EXPIRE", "foo", LLONG_MIN, expect=expire_error("expire")),
     C("EXPIRE", "foo", "-9223372036854775", expect=integer(1)), C("EXISTS", "foo", expect=integer(0)))
case("pexpireat_with_big_integer_works",
     C("SET", "foo", "bar"), C("PEXPIREAT", "foo", "9223370399119966", expect=integer(1)),
     PTTL("PTTL", "foo"), TTL("TTL", "foo"), C("PEXPIREAT", "foo", LLONG_MAX, expect=integer(1)),
     PTTL("PTTL", "foo"))
case("pexpireat_with_big_negative_integer_works",
     C("SET", "foo", "bar"), C("PEXPIREAT", "foo", LLONG_MIN, expect=integer(1)),
     C("TTL", "foo", expect=integer(-2)))
case("expireat_in_the_past_deletes",
     C("SET", "foo", "bar"), C("EXPIREAT", "foo", "1", expect=integer(1)),
     C("GET", "foo", expect=NIL), C("SET", "foo", "bar"), C("PEXPIREAT", "foo", "0", expect=integer(1)),
     C("EXISTS", "foo", expect=integer(0)))
case("set_with_ex_big_and_small_integers",
     C("SET", "foo", "bar", "EX", "10000000000000000", expect=expire_error("set")),
     C("SET", "foo", "bar", "EX", LLONG_MAX, expect=expire_error("set")),
     C("SET", "foo", "bar", "EX", LLONG_MIN, expect=expire_error("set")),
     C("SET", "foo", "bar", "PX", LLONG_MAX, expect=expire_error("set")),
     C("SET", "foo", "bar", "EXAT", LLONG_MAX, expect=expire_error("set")),
     C("SET", "foo", "bar", "PX", "9223372036854770000"),
     C("EXISTS", "foo", expect=integer(0)))
case("set_with_pxat_llong_max",
     C("SET", "foo", "bar", "PXAT", LLONG_MAX, expect=OK), PTTL("PTTL", "foo"))
case("set_with_exat_and_pxat",
     C("SET", "foo", "bar", "EXAT", now_s(100), expect=OK), TTL("TTL", "foo"),
     C("SET", "foo", "bar", "PXAT", now_ms(100000), expect=OK), PTTL("PTTL", "foo"),
     C("SET", "foo", "bar", "exat", now_s(50)), TTL("TTL", "foo"))
case("set_with_exat_in_the_past",
     C("SET", "foo", "bar", "EXAT", "1", expect=OK), C("GET", "foo", expect=NIL),
     C("EXISTS", "foo", expect=integer(0)), C("SET", "foo", "bar", "PXAT", "1", expect=OK),
     C("GET", "foo", expect=NIL))
case("set_invalid_expire_times",
     C("SET", "foo", "bar", "EX", "0", expect=expire_error("set")),
     C("SET", "foo", "bar", "PX", "0", expect=expire_error("set")),
     C("SET", "foo", "bar", "EX", "-1", expect=expire_error("set")),
     C("SET", "foo", "bar", "PX", "-100", expect=expire_error("set")),
     C("SET", "foo", "bar", "EXAT", "0", expect=expire_error("set")),
     C("SET", "foo", "bar", "PXAT", "-1", expect=expire_error("set")),
     C("SET", "foo", "bar", "EX", "abc", expect=NOT_INT),
     C("SET", "foo", "bar", "PX", "1.5", expect=NOT_INT),
     C("SET", "foo", "bar", "EX", "", expect=NOT_INT),
     C("SET", "foo", "bar", "EX", " 10", expect=NOT_INT),
     C("GET", "foo", expect=NIL))
case("setnx_against_expired_volatile_key",
     C("SET", "x", "10"), C("PEXPIRE", "x", "100"), Sleep(0.25),
     C("SETNX", "x", "20", expect=integer(1)), C("GET", "x", expect=bulk("20")))
case("setnx_against_not_expired_volatile_key",
     C("SET", "x", "10"), C("EXPIRE", "x", "10000"), C("SETNX", "x", "20", expect=integer(0)),
     C("GET", "x", expect=bulk("10")), TTL("TTL", "x"))
case("getset_and_mset_clear_ttl",
     C("SET", "a", "1", "EX", "100"), C("GETSET", "a", "2", expect=bulk("1")),
     C("TTL", "a", expect=integer(-1)), C("SET", "b", "1", "EX", "100"), C("MSET", "b", "2"),
     C("TTL", "b", expect=integer(-1)), C("SET", "c", "1", "EX", "100"), C("SETEX", "c", "200", "2"),
     TTL("TTL", "c"), C("SET", "c", "3", "EX", "100", "GET", expect=bulk("2")), TTL("TTL", "c"))
case("expire_then_getdel",
     C("SET", "a", "1", "EX", "100"), C("GETDEL", "a", expect=bulk("1")), C("TTL", "a", expect=integer(-2)))

# ---- tests/unit/type/string.tcl (string parts) ---------------------------------------------

case("set_and_get_an_item", C("SET", "x", "foobar", expect=OK), C("GET", "x", expect=bulk("foobar")))
case("set_and_get_an_empty_item", C("SET", "x", ""), C("GET", "x", expect=b"$0\r\n\r\n"))
case("very_big_payload_in_get_set",
     C("SET", "foo", "abcd" * 1000000, expect=OK), C("GET", "foo"), C("STRLEN", "foo", expect=integer(4000000)))
case("set_1000_numeric_keys_and_access_them_in_reverse_order",
     C("MSET", *[str(x) for i in range(1000) for x in (i, i)]),
     C("MGET", *[str(i) for i in reversed(range(1000))]), C("DBSIZE", expect=integer(1000)))
case("setnx_target_key_missing",
     C("SETNX", "novar", "foobared", expect=integer(1)), C("GET", "novar", expect=bulk("foobared")))
case("setnx_target_key_exists",
     C("SET", "novar", "foobared"), C("SETNX", "novar", "blabla", expect=integer(0)),
     C("GET", "novar", expect=bulk("foobared")))
case("getdel_command",
     C("SET", "foo", "bar"), C("GETDEL", "foo", expect=bulk("bar")), C("GETDEL", "foo", expect=NIL))
case("mget",
     C("SET", "foo", "BAR"), C("SET", "bar", "FOO"),
     C("MGET", "foo", "bar", expect=b"*2\r\n$3\r\nBAR\r\n$3\r\nFOO\r\n"),
     C("MGET", "foo", "baazz", "bar", expect=b"*3\r\n$3\r\nBAR\r\n$-1\r\n$3\r\nFOO\r\n"),
     C("MGET", "nokey", expect=b"*1\r\n$-1\r\n"), C("MGET", "foo", "foo"))
case("getset_set_new_value",
     C("GETSET", "foo", "xyz", expect=NIL), C("GET", "foo", expect=bulk("xyz")))
case("getset_replace_old_value",
     C("SET", "foo", "bar"), C("GETSET", "foo", "xyz", expect=bulk("bar")), C("GET", "foo", expect=bulk("xyz")))
case("mset_base_case",
     C("MSET", "x", "10", "y", "foo bar", "z", "x x x x x x x\n\n\r\n", expect=OK),
     C("MGET", "x", "y", "z"))
case("mset_wrong_number_of_args",
     C("MSET", "x", "10", "y", "foo bar", "z", expect=arity_error("mset")),
     C("EXISTS", "x", expect=integer(0)))
case("mset_with_already_existing_same_key_twice",
     C("SET", "x", "x"), C("MSET", "x", "xxx", "x", "yyy", expect=OK), C("GET", "x", expect=bulk("yyy")))
case("strlen",
     C("STRLEN", "notakey", expect=integer(0)), C("SET", "myinteger", "-555"),
     C("STRLEN", "myinteger", expect=integer(4)), C("SET", "mystring", "foozzz0123456789 baz"),
     C("STRLEN", "mystring", expect=integer(20)), C("INCRBY", "counter", "123456"),
     C("STRLEN", "counter", expect=integer(6)), C("SET", "bin", b"\x00\r\n\xff"),
     C("STRLEN", "bin", expect=integer(4)))
case("extended_set_can_detect_syntax_errors",
     C("SET", "foo", "bar", "non-existing-option", expect=SYNTAX))
case("extended_set_nx_option",
     C("SET", "foo", "1", "nx", expect=OK), C("SET", "foo", "2", "nx", expect=NIL),
     C("GET", "foo", expect=bulk("1")))
case("extended_set_xx_option",
     C("SET", "foo", "1", "xx", expect=NIL), C("SET", "foo", "bar"), C("SET", "foo", "2", "xx", expect=OK),
     C("GET", "foo", expect=bulk("2")))
case("extended_set_get_option",
     C("SET", "foo", "bar"), C("SET", "foo", "bar2", "GET", expect=bulk("bar")),
     C("GET", "foo", expect=bulk("bar2")))
case("extended_set_get_option_with_no_previous_value",
     C("SET", "foo", "bar", "GET", expect=NIL), C("GET", "foo", expect=bulk("bar")))
case("extended_set_get_option_with_xx",
     C("SET", "foo", "bar"), C("SET", "foo", "baz", "GET", "XX", expect=bulk("bar")),
     C("GET", "foo", expect=bulk("baz")))
case("extended_set_get_option_with_xx_and_no_previous_value",
     C("SET", "foo", "bar", "GET", "XX", expect=NIL), C("GET", "foo", expect=NIL))
case("extended_set_get_option_with_nx",
     C("SET", "foo", "bar", "GET", "NX", expect=NIL), C("GET", "foo", expect=bulk("bar")))
case("extended_set_get_option_with_nx_and_previous_value",
     C("SET", "foo", "bar"), C("SET", "foo", "baz", "GET", "NX", expect=bulk("bar")),
     C("GET", "foo", expect=bulk("bar")))
case("extended_set_ex_option",
     C("SET", "foo", "bar", "ex", "10", expect=OK), TTL("TTL", "foo"))
case("extended_set_px_option",
     C("SET", "foo", "bar", "px", "10000", expect=OK), TTL("TTL", "foo"), PTTL("PTTL", "foo"))
case("extended_set_exat_option",
     C("SET", "foo", "bar", "exat", now_s(10)), TTL("TTL", "foo"))
case("extended_set_pxat_option",
     C("SET", "foo", "bar", "pxat", now_ms(10000)), TTL("TTL", "foo"))
case("extended_set_using_multiple_options_at_once",
     C("SET", "foo", "val"), C("SET", "foo", "bar", "xx", "px", "10000", expect=OK), TTL("TTL", "foo"),
     C("SET", "foo", "baz", "GET", "EX", "100", "XX", expect=bulk("bar")), TTL("TTL", "foo"))
case("extended_set_option_conflicts",
     C("SET", "foo", "bar", "NX", "XX", expect=SYNTAX), C("SET", "foo", "bar", "EX", "10", "PX", "100", expect=SYNTAX),
     C("SET", "foo", "bar", "EX", "10", "KEEPTTL", expect=SYNTAX),
     C("SET", "foo", "bar", "KEEPTTL", "PX", "10", expect=SYNTAX),
     C("SET", "foo", "bar", "EXAT", "10", "PXAT", "10", expect=SYNTAX),
     C("SET", "foo", "bar", "EX", expect=SYNTAX), C("SET", "foo", "bar", "PX", expect=SYNTAX),
     C("SET", "foo", "bar", "EXAT", expect=SYNTAX), C("SET", "foo", "bar", "GET", "foo", expect=SYNTAX),
     C("SET", "foo", "bar", "XX", "NX", expect=SYNTAX), C("SET", "foo", "bar", "PERSIST", expect=SYNTAX),
     C("SET", "foo", "bar", "EX", "10", "EXAT", "10", expect=SYNTAX), C("EXISTS", "foo", expect=integer(0)))
case("extended_set_repeated_options",  # Redis accepts repeats; the last EX wins
     C("SET", "foo", "bar", "NX", "NX"), C("SET", "foo", "bar", "XX", "XX"),
     C("SET", "foo", "bar", "GET", "GET"), C("SET", "foo", "bar", "KEEPTTL", "KEEPTTL"),
     C("SET", "foo", "bar", "EX", "10", "EX", "20"), TTL("TTL", "foo"))
case("extended_set_mixed_case_options",
     C("SET", "foo", "bar", "Ex", "100", "nX"), TTL("TTL", "foo"), C("set", "foo", "baz", "xX", "gEt"),
     C("GET", "foo"))

# ---- binary keys and values ---------------------------------------------------------------

BINARY_KEYS = [b"\x00", b"a\x00b", b"a\r\nb", b"\r\n", b"\xff\xfe", b"key with spaces", b"\x00\r\n\x00",
               b"*", b"$-1", b"", b"\xe2\x82\xac"]
case("binary_keys_set_get_exists_keys",
     *[C("SET", k, b"v" + k) for k in BINARY_KEYS],
     *[C("GET", k) for k in BINARY_KEYS], C("EXISTS", *BINARY_KEYS, expect=integer(len(BINARY_KEYS))),
     SORTED("KEYS", "*"), C("DBSIZE", expect=integer(len(BINARY_KEYS))),
     C("MGET", *BINARY_KEYS), C("DEL", *BINARY_KEYS[:3], expect=integer(3)), SORTED("KEYS", "*"))
case("binary_keys_counters",
     *[C("INCRBY", k, "7") for k in BINARY_KEYS], *[C("DECR", k) for k in BINARY_KEYS],
     C("MGET", *BINARY_KEYS), ScanAll())
case("binary_values_round_trip",
     C("SET", "k", bytes(range(256)), expect=OK), C("GET", "k", expect=bulk(bytes(range(256)))),
     C("MSET", "a", b"\r\n$3\r\n", "b", b"\x00" * 100), C("MGET", "a", "b"),
     C("GETSET", "a", b"\r\n"), C("GETDEL", "a"), C("SET", "c", b"x\r\n", "GET"))
case("long_key",
     C("SET", "k" * 100000, "v", expect=OK), C("GET", "k" * 100000, expect=bulk("v")),
     C("INCR", "n" * 50000, expect=integer(1)), C("DBSIZE", expect=integer(2)))

# ---- misc commands: PING ECHO SELECT AUTH QUIT TYPE -------------------------------------------

case("ping_and_echo",
     C("PING", expect=b"+PONG\r\n"), C("PING", "hello", expect=bulk("hello")), C("ping", ""),
     C("PING", b"\x00\r\n"), C("ECHO", "hello", expect=bulk("hello")), C("ECHO", ""),
     C("ECHO", b"a\r\nb\x00"), C("PiNg"), C("echo", "x" * 70000))
case("select",
     C("SELECT", "0", expect=OK), C("SELECT", "1", expect=b"-ERR DB index is out of range\r\n"),
     C("SELECT", "15", expect=b"-ERR DB index is out of range\r\n"),
     C("SELECT", "-1", expect=b"-ERR DB index is out of range\r\n"),
     C("SELECT", "abc", expect=NOT_INT), C("SELECT", "", expect=NOT_INT), C("SELECT", "0.5", expect=NOT_INT),
     C("SELECT", "99999999999999999999", expect=NOT_INT), C("SELECT", "00"), C("SET", "k", "v"),
     C("SELECT", "0"), C("GET", "k", expect=bulk("v")))
case("auth_without_password_configured",
     C("AUTH", "x", expect=b"-ERR AUTH <password> called without any password configured for the "
                          b"default user. Are you sure your configuration is correct?\r\n"),
     C("AUTH", "default", "x", expect=OK), C("AUTH", "foo", "bar",
       expect=b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
     C("AUTH", "a", "b", "c", expect=SYNTAX), C("PING", expect=b"+PONG\r\n"))
case("quit_replies_ok_and_closes",
     Raw(b"*1\r\n$4\r\nQUIT\r\n", closes=True, expect=OK))
case("quit_with_arguments",
     Raw(encode_command("QUIT", "a", "b"), closes=True, expect=OK))
case("quit_in_a_pipeline_drops_the_rest",
     Raw(b"PING\r\nINCR q\r\nQUIT\r\nINCR q\r\nPING\r\n", replies=3, closes=True,
         expect=(b"+PONG\r\n", integer(1), OK)),
     Reconnect(), C("GET", "q", expect=bulk("1")))
case("quit_does_not_lose_the_write_before_it",
     Raw(encode_command("SET", "q", "v") + encode_command("QUIT"), replies=2, closes=True),
     Reconnect(), C("GET", "q", expect=bulk("v")))
case("protocol_error_does_not_lose_earlier_writes",
     Raw(encode_command("INCR", "a") + b"*1\r\n$x\r\n", replies=2, closes=True),
     Reconnect(), C("GET", "a", expect=bulk("1")))

# ---- COMMAND GETKEYS / GETKEYSANDFLAGS: key positions and key-spec flags per call ----------------

RW_ACCESS_UPDATE = b"*3\r\n+RW\r\n+access\r\n+update\r\n"
OW_UPDATE = b"*2\r\n+OW\r\n+update\r\n"


def one_key_with_flags(key: str, flags: bytes) -> bytes:
    return b"*1\r\n*2\r\n" + bulk(key) + flags


# SET's flags vary with its arguments (Redis's setGetKeys): a GET anywhere
# after the value (even where it is an option's value, or followed by a NUL
# byte) makes it a read-modify-write, otherwise it only overwrites.
case("getkeysandflags_set_depends_on_get",
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", expect=one_key_with_flags("a", OW_UPDATE)),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET",
       expect=one_key_with_flags("a", RW_ACCESS_UPDATE)),
     C("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "get"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "NX", "GET"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "XX", "GET", "garbage"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "EX", "10", expect=one_key_with_flags("a", OW_UPDATE)),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "EX", "get"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "get", expect=one_key_with_flags("a", OW_UPDATE)),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "get", "b"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "getx"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "ge"),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", b"get\x00x", expect=one_key_with_flags("a", RW_ACCESS_UPDATE)),
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", b"ge\x00"),
     C("COMMAND", "GETKEYS", "SET", "a", "b", "GET", expect=b"*1\r\n" + bulk("a")),
     C("COMMAND", "INFO", "set"), C("COMMAND", "INFO", "get", "strlen"))

# Every command with keys, with the fixed flags of its key spec.
GETKEYS_CALLS = [
    ("INCR", "a"), ("INCRBY", "a", "1"), ("DECR", "a"), ("DECRBY", "a", "1"),
    ("INCRBYFLOAT", "a", "1.5"), ("GET", "a"), ("SETNX", "a", "b"), ("SETEX", "a", "10", "v"),
    ("PSETEX", "a", "10", "v"), ("GETSET", "a", "v"), ("GETDEL", "a"), ("STRLEN", "a"),
    ("MGET", "a", "b"), ("MSET", "a", "1", "b", "2"), ("MSET", "a", "1", "b"), ("MSETNX", "a", "1", "b", "2"),
    ("DEL", "a", "b"), ("UNLINK", "a"), ("EXISTS", "a", "b"), ("TYPE", "a"), ("EXPIRE", "a", "10", "NX"),
    ("PEXPIRE", "a", "10"), ("EXPIREAT", "a", "10"), ("PEXPIREAT", "a", "10"), ("TTL", "a"),
    ("PTTL", "a"), ("PERSIST", "a"), ("OBJECT", "ENCODING", "a"), ("OBJECT", "FREQ", "a"),
    ("OBJECT", "IDLETIME", "a"), ("OBJECT", "REFCOUNT", "a"), ("WATCH", "a", "b"),
    ("MEMORY", "USAGE", "a"), ("MEMORY", "USAGE", "a", "SAMPLES", "5"),
]
case("getkeysandflags_every_command_with_keys",
     *[C("COMMAND", "GETKEYSANDFLAGS", *call) for call in GETKEYS_CALLS],
     *[C("COMMAND", "GETKEYS", *call) for call in GETKEYS_CALLS])
case("getkeysandflags_errors",
     C("COMMAND", "GETKEYSANDFLAGS", "SET", "a",
       expect=b"-ERR Invalid number of arguments specified for command\r\n"),
     C("COMMAND", "GETKEYSANDFLAGS", "NOSUCH", "a", expect=b"-ERR Invalid command specified\r\n"),
     C("COMMAND", "GETKEYSANDFLAGS", "PING", "x", expect=b"-ERR The command has no key arguments\r\n"),
     C("COMMAND", "GETKEYSANDFLAGS", "GET", "a", "b"), C("COMMAND", "GETKEYSANDFLAGS", "PING"),
     C("COMMAND", "GETKEYSANDFLAGS"))

# ---- arity errors for every command in scope -------------------------------------------------

ARITY = {  # command -> (arity as in Redis's command table)
    "incr": 2, "incrby": 3, "decr": 2, "decrby": 3, "incrbyfloat": 3, "get": 2, "set": -3,
    "setnx": 3, "setex": 4, "psetex": 4, "getset": 3, "getdel": 2, "strlen": 2, "mget": -2,
    "mset": -3, "del": -2, "unlink": -2, "exists": -2, "type": 2, "keys": 2, "scan": -2,
    "dbsize": 1, "expire": -3, "pexpire": -3, "expireat": -3, "pexpireat": -3, "ttl": 2,
    "pttl": 2, "persist": 2, "ping": -1, "echo": 2, "select": 2, "auth": -2,
}
for _cmd, _arity in ARITY.items():
    _n = abs(_arity)
    _steps = [C(_cmd.upper(), *["a"] * (_n - 2), expect=arity_error(_cmd))] if _n >= 2 else []
    if _arity > 0:
        _steps.append(C(_cmd.upper(), *["a"] * _n, expect=arity_error(_cmd)))  # one too many
    _steps.append(C(_cmd.capitalize(), *["a"] * (_n - 2)) if _n >= 2 else C(_cmd, "x", "y"))
    if _cmd == "ping":
        _steps = [C("PING", "a", "b", expect=arity_error("ping")), C("ping", "x", "y", "z")]
    _steps.append(C("DBSIZE", expect=integer(0)))
    case(f"arity_{_cmd}", *_steps)
case("arity_mset_odd_arguments",
     C("MSET", "a", "1", "b", expect=arity_error("mset")), C("MSET", "a", expect=arity_error("mset")),
     C("EXISTS", "a", "b", expect=integer(0)))
case("arity_error_does_not_close_the_connection",
     C("INCR", expect=arity_error("incr")), C("INCR", "k", expect=integer(1)))

# ---- unknown commands ------------------------------------------------------------------------------

case("unknown_command_with_args",
     C("FOO", "a", "b", expect=b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"),
     C("foo", expect=b"-ERR unknown command 'foo', with args beginning with: \r\n"),
     C("LPUSHX2", "k", "v"), C("GET2", "k"), C("INC", "k"), C("INCR1", "k"))
case("unknown_command_long_args_truncated",
     C("FOO", "x" * 200), C("FOO", "a" * 100, "b" * 100, "c" * 100), C("X" * 200, "a"),
     C("FOO", *[str(i) for i in range(100)]))
case("unknown_command_newlines_are_sanitized",
     C("FOO", "a\r\nb", expect=b"-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n"),
     C("F\r\nOO", "x"), C("FOO", "\n"))
case("unknown_command_empty_name",
     Raw(b"*1\r\n$0\r\n\r\n", expect=b"-ERR unknown command '', with args beginning with: \r\n"),
     C("", "a", "b"), C("PING", expect=b"+PONG\r\n"))
case("unknown_command_binary_name", C(b"\x00\xff", b"\x01"))

# ---- tests/unit/protocol.tcl and more raw-protocol cases -----------------------------------------

case("handle_an_empty_query", Raw(b"\r\n", replies=0), C("PING", expect=b"+PONG\r\n"))
case("empty_and_blank_inline_lines",
     Raw(b"\r\n\n   \r\n\t\r\nPING\r\n", expect=b"+PONG\r\n"))
case("negative_multibulk_length", Raw(b"*-10\r\n", replies=0), C("PING", expect=b"+PONG\r\n"))
case("zero_multibulk_length", Raw(b"*0\r\n", replies=0), C("PING", expect=b"+PONG\r\n"))
case("out_of_range_multibulk_length",
     Raw(b"*3000000000\r\n", closes=True, expect=proto_error("invalid multibulk length")))
case("non_number_multibulk_length",
     Raw(b"*abc\r\n", closes=True, expect=proto_error("invalid multibulk length")))
case("multibulk_length_with_trailing_garbage",
     Raw(b"*1x\r\n$4\r\nPING\r\n", closes=True, expect=proto_error("invalid multibulk length")))
case("multibulk_length_with_plus_sign",
     Raw(b"*+1\r\n$4\r\nPING\r\n", closes=True, expect=proto_error("invalid multibulk length")))
case("wrong_multibulk_payload_header",
     Raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", closes=True, expect=proto_error("expected '$', got 'f'")))
case("negative_multibulk_payload_length",
     Raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n", closes=True, expect=proto_error("invalid bulk length")))
case("null_bulk_in_request",
     Raw(b"*1\r\n$-1\r\n", closes=True, expect=proto_error("invalid bulk length")))
case("out_of_range_multibulk_payload_length",
     Raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", closes=True, expect=proto_error("invalid bulk length")))
case("non_number_multibulk_payload_length",
     Raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", closes=True, expect=proto_error("invalid bulk length")))
case("bulk_length_with_trailing_garbage",
     Raw(b"*1\r\n$4x\r\nPING\r\n", closes=True, expect=proto_error("invalid bulk length")))
case("multi_bulk_request_not_followed_by_bulk_arguments",
     Raw(b"*1\r\nfoo\r\n", closes=True, expect=proto_error("expected '$', got 'f'")))
case("generic_wrong_number_of_args", C("PING", "x", "y", "z", expect=arity_error("ping")))
case("unbalanced_number_of_quotes",
     Raw(b'set """test-key""" test-value\r\nping\r\n', closes=True, expect=proto_error("unbalanced quotes in request")))
case("unbalanced_quotes_closing_quote_followed_by_char",
     Raw(b'set "abc"d 1\r\n', closes=True, expect=proto_error("unbalanced quotes in request")))
case("unbalanced_single_quote",
     Raw(b"set 'abc 1\r\n", closes=True, expect=proto_error("unbalanced quotes in request")))
for _n, _seq in enumerate([b"\x00", b"*\x00", b"$\x00"], 1):
    # The Redis test writes until the server gives up; 66.5 KB is past the
    # 64 KB limit, bounded, and all of it is read before the server closes.
    case(f"protocol_desync_regression_test_{_n}",
         Raw(_seq + b"payload" * 9500, closes=True))
case("too_big_inline_request",
     Raw(b"a" * 66560, closes=True, expect=proto_error("too big inline request")))
case("too_big_mbulk_count_string",
     Raw(b"*" + b"1" * 66559, closes=True, expect=proto_error("too big mbulk count string")))
case("too_big_bulk_count_string",
     Raw(b"*1\r\n$" + b"1" * 66555, closes=True, expect=proto_error("too big bulk count string")))
case("inline_commands_with_quotes",
     Raw(b"set \"a b\" 'c\\'d'\r\nget \"a b\"\r\n", replies=2, expect=(OK, bulk("c'd"))),
     Raw(b'set "k\\x41\\n\\r\\t\\"\\\\" "v\\x00w"\r\n'), SORTED("KEYS", "*"),
     Raw(b'get "k\\x41\\n\\r\\t\\"\\\\"\r\n'), Raw(b"SET  \t  spaced    value  \r\nGET spaced\r\n", replies=2),
     Raw(b"echo \"\"\r\necho ''\r\n", replies=2))
case("inline_with_lf_only", Raw(b"PING\n", expect=b"+PONG\r\n"), Raw(b"INCR x\nINCR x\n", replies=2))
case("inline_unknown_command_and_arity",
     Raw(b"FOO bar\r\nINCR\r\nINCR a b\r\n", replies=3))
case("pipelined_requests",
     Raw(encode_command("PING") * 100, replies=100),
     Raw(b"".join(encode_command("INCR", "p") for _ in range(1000)), replies=1000),
     C("GET", "p", expect=bulk("1000")))
case("pipelined_mixed_inline_multibulk_and_errors",
     Raw(b"SET a 1\r\n" + encode_command("INCR", "a") + b"INCR\r\n" + encode_command("FOO", "x")
         + b"GET a\r\n" + encode_command("INCRBY", "a", "x") + encode_command("MGET", "a", "b"),
         replies=7))
case("pipelined_with_protocol_error_at_the_end",
     Raw(encode_command("INCR", "a") + encode_command("INCR", "a") + b"*1\r\n$x\r\n",
         replies=3, closes=True))
# A write pipelined before WATCH on the same connection happened before the
# WATCH: it must not abort that connection's EXEC (auto-pipelining clients
# with retry loops would abort forever).
case("watch_after_a_pipelined_write_of_the_key",
     Raw(encode_command("SET", "wa", "1") + encode_command("WATCH", "wa")
         + encode_command("GET", "wa") + encode_command("MULTI") + encode_command("INCR", "wa")
         + encode_command("EXEC"),
         replies=6, expect=(OK, OK, bulk("1"), OK, b"+QUEUED\r\n", b"*1\r\n:2\r\n")))
case("request_split_across_writes",
     Raw([b"*3\r\n$3\r\nSE", b"T\r\n$1\r\nk\r\n$", b"5\r\nhel", b"lo\r\n"], expect=OK),
     Raw([b"GE", b"T k", b"\r", b"\n"], expect=bulk("hello")),
     Raw([b"*2\r\n", b"$4\r\nINCR\r\n", b"$1\r", b"\nn\r\n"], expect=integer(1)))
case("request_split_byte_by_byte",
     Raw([bytes([b]) for b in encode_command("SET", "key", "value")], expect=OK, pause=0.002),
     C("GET", "key", expect=bulk("value")))
case("test_large_number_of_args",
     C("MSET", *(["k", "v"] * 10000), "{k}2", "v2", expect=OK), C("GET", "{k}2", expect=bulk("v2")),
     C("DEL", *[f"k{i}" for i in range(20000)], "k", expect=integer(1)))
case("big_multibulk_argument",  # >= 32 KB arguments take Redis's "big arg" path
     C("SET", "big", "x" * 1048576, expect=OK), C("STRLEN", "big", expect=integer(1048576)),
     C("GET", "big"), Raw([encode_command("SET", "big2", "y" * 200000)[:100000],
                            encode_command("SET", "big2", "y" * 200000)[100000:]], expect=OK),
     C("STRLEN", "big2", expect=integer(200000)))


# ---- hostile arguments (docs/security.md): absurd numbers, 1 MB keys, NUL bytes ----------------

ONE_MB_KEY = "k" * (1024 * 1024)
case("absurd_scan_counts",
     *populate(300), ScanAll("COUNT", "4611686018427387904"), ScanAll("COUNT", LLONG_MAX),
     C("SCAN", "0", "COUNT", LLONG_MIN, expect=SYNTAX),
     C("SCAN", "0", "COUNT", "-4611686018427387904", expect=SYNTAX),
     C("SCAN", "18446744073709551616", "COUNT", "4611686018427387904",
       expect=b"-ERR invalid cursor\r\n"))
case("absurd_counts_and_times",
     C("SET", "k", "5"),
     C("WAIT", "-1", "-1", expect=b"-ERR timeout is negative\r\n"), C("WAIT", "0", "-1"),
     C("WAIT", "99999999999999999999", "0", expect=NOT_INT),
     C("MEMORY", "USAGE", "k", "SAMPLES", "-1", expect=SYNTAX),
     C("CLIENT", "KILL", "ID", "-1", expect=b"-ERR client-id should be greater than 0\r\n"),
     C("CLIENT", "KILL", "ID", "99999999999999999999"), C("CLIENT", "KILL", "ID", "0"),
     C("HELLO", "99999999999999999999"), C("HELLO", "-1"), C("HELLO", "0"),
     C("SELECT", "99999999999999999999", expect=NOT_INT),
     C("SETEX", "k", LLONG_MAX, "v", expect=expire_error("setex")),
     C("PSETEX", "k", LLONG_MAX, "v", expect=expire_error("psetex")),
     C("SETEX", "k", LLONG_MIN, "v", expect=expire_error("setex")),
     C("EXPIREAT", "k", LLONG_MIN, expect=expire_error("expireat")),
     C("PEXPIRE", "k", LLONG_MAX, expect=expire_error("pexpire")),
     C("INCRBY", "k", LLONG_MIN), C("DECRBY", "k", LLONG_MIN), C("GET", "k"))
case("one_mb_keys",
     C("SET", ONE_MB_KEY, "1", expect=OK), C("INCR", ONE_MB_KEY, expect=integer(2)),
     C("INCRBY", ONE_MB_KEY + "x", LLONG_MAX), C("INCR", ONE_MB_KEY + "x", expect=OVERFLOW),
     C("GET", ONE_MB_KEY), C("EXISTS", ONE_MB_KEY, ONE_MB_KEY + "x", "nope", expect=integer(2)),
     C("STRLEN", ONE_MB_KEY), C("EXPIRE", ONE_MB_KEY, "100", expect=integer(1)),
     TTL("TTL", ONE_MB_KEY), C("TYPE", ONE_MB_KEY), SORTED("KEYS", "k*"),
     C("MGET", ONE_MB_KEY, "nope", ONE_MB_KEY + "x"), ScanAll("MATCH", "k*k"),
     C("DEL", ONE_MB_KEY, ONE_MB_KEY + "x", expect=integer(2)), C("DBSIZE", expect=integer(0)))
case("nul_bytes_everywhere",
     C("INCRBY", b"\x00", b"5\x00"), C("INCRBY", b"\x00", "5", expect=integer(5)),
     C("SET", b"k\x00", b"\x00\x00", expect=OK), C("GET", b"k\x00", expect=bulk(b"\x00\x00")),
     C("EXPIRE", b"k\x00", b"10\x00", expect=NOT_INT),
     C("SCAN", "0", "COUNT", b"1\x00", expect=NOT_INT), C("MGET", b"\x00", b"k\x00", b"k"),
     SORTED("KEYS", b"*\x00*"), C(b"GET\x00", "k"), C("CONFIG", "GET", b"\x00"))


# ---- CONFIG SET: Redis's errors for numbers and sizes out of range or not numbers at all ----------


def config_error(name: str, text: str) -> bytes:
    return (f"-ERR CONFIG SET failed (possibly related to argument '{name}') - {text}\r\n").encode()


case("config_set_bad_numbers_and_sizes",
     *[C("CONFIG", "SET", name, value, expect=config_error(name, text)) for name, value, text in [
         ("maxclients", "0", "argument must be between 1 and 4294967295 inclusive"),
         ("maxclients", "4294967296", "argument must be between 1 and 4294967295 inclusive"),
         ("maxclients", "many", "argument couldn't be parsed into an integer"),
         ("timeout", "-1", "argument must be between 0 and 2147483647 inclusive"),
         ("timeout", "1.5", "argument couldn't be parsed into an integer"),
         ("tcp-keepalive", "-3", "argument must be between 0 and 2147483647 inclusive"),
         ("slowlog-log-slower-than", "x", "argument couldn't be parsed into an integer"),
         ("slowlog-max-len", "-1", "argument must be between 0 and 9223372036854775807 inclusive"),
         ("proto-max-bulk-len", "1", "argument must be between 1048576 and 9223372036854775807 inclusive"),
         ("client-query-buffer-limit", "1k",
          "argument must be between 1048576 and 9223372036854775807 inclusive"),
         ("client-query-buffer-limit", "lots", "argument must be a memory value"),
     ]])


# ---- WATCH: only writes that change a key dirty its watchers (multi.tcl) -----------------------

ABORTED = b"*-1\r\n"
case("watch_writes_that_change_nothing",
     C("SET", "k", "v"), C("SET", "n", "5"), C("WATCH", "k", "n", "missing", expect=OK),
     C("SET", "k", "w", "NX", expect=NIL), C("SET", "missing", "w", "XX", expect=NIL),
     C("INCR", "k", expect=NOT_INT), C("INCRBY", "n", "x", expect=NOT_INT),
     C("DEL", "missing", expect=integer(0)), C("GETDEL", "missing", expect=NIL),
     C("EXPIRE", "missing", "100", expect=integer(0)), C("PERSIST", "k", expect=integer(0)),
     C("EXPIRE", "n", "100", "XX", expect=integer(0)), C("MSETNX", "k", "1", "missing", "2",
                                                        expect=integer(0)),
     C("MULTI", expect=OK), C("GET", "k"), C("EXEC", expect=b"*1\r\n$1\r\nv\r\n"))
case("watch_flushdb_spares_missing_keys",
     C("WATCH", "nokey", expect=OK), C("FLUSHDB", expect=OK), C("MULTI", expect=OK),
     C("PING"), C("EXEC", expect=b"*1\r\n+PONG\r\n"))
case("watch_flushdb_dirties_existing_keys",
     C("SET", "k", "v"), C("WATCH", "nokey", "k", expect=OK), C("FLUSHALL", expect=OK),
     C("MULTI", expect=OK), C("PING"), C("EXEC", expect=ABORTED))
for name, write in [("set_same_value", ("SET", "k", "v")), ("set_xx", ("SET", "k", "v", "XX")),
                    ("incrby_zero", ("INCRBY", "n", "0")), ("del", ("DEL", "k")),
                    ("expire", ("EXPIRE", "n", "100")), ("set_nx_missing", ("SET", "missing", "1", "NX")),
                    ("getdel", ("GETDEL", "k")), ("msetnx", ("MSETNX", "missing", "1"))]:
    case(f"watch_dirtied_by_{name}",
         C("SET", "k", "v"), C("SET", "n", "5"), C("WATCH", "k", "n", "missing", expect=OK),
         C(*write), C("MULTI", expect=OK), C("GET", "k"), C("EXEC", expect=ABORTED))


# ---- RESP3 ---------------------------------------------------------------------------------------

RESP3_CASES = {
    "resp3_basic_replies": [
        Cmd("HELLO", "3", cmp="hello"), C("GET", "nokey", expect=b"_\r\n"), C("SET", "k", "1"),
        C("INCR", "k", expect=integer(2)), C("GET", "k", expect=bulk("2")),
        C("MGET", "k", "nokey", expect=b"*2\r\n$1\r\n2\r\n_\r\n"), C("INCRBYFLOAT", "k", "0.5"),
        C("TTL", "k"), C("EXISTS", "k"), SORTED("KEYS", "*"), C("SET", "k", "v", "NX"),
        C("SET", "k", "v", "GET"), C("PING"), C("FOO"), C("INCR"), C("TYPE", "k"), C("DBSIZE")],
    "resp3_scan": [Cmd("HELLO", "3", cmp="hello"), *populate(50), ScanAll("COUNT", "7")],
    "resp3_back_to_resp2": [
        Cmd("HELLO", "3", cmp="hello"), C("GET", "nokey", expect=b"_\r\n"),
        Cmd("HELLO", "2", cmp="hello_resp2"), C("GET", "nokey", expect=NIL)],
    "resp3_getkeysandflags": [
        Cmd("HELLO", "3", cmp="hello"),
        C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b",
          expect=b"*1\r\n*2\r\n$1\r\na\r\n~2\r\n+OW\r\n+update\r\n"),
        C("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET"),
        C("COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1", "b", "2"),
        C("COMMAND", "GETKEYSANDFLAGS", "STRLEN", "a")],
    "hello_errors": [
        C("HELLO", "4", expect=b"-NOPROTO unsupported protocol version\r\n"), C("HELLO", "abc"),
        C("HELLO", "1"), C("PING")],
}


def _hello2_equal(a, b):
    try:
        x, y = decode(a), decode(b)
    except Exception:
        return False
    return (a[:1] == b[:1] == b"*" and sorted(dict(zip(x[0::2], x[1::2])))
            == sorted(dict(zip(y[0::2], y[1::2]))))


# ---------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("name", list(CASES))
def test_same_replies_as_redis(diff_pair, name):
    run_case(diff_pair, CASES[name])


@pytest.mark.parametrize("name", list(RESP3_CASES))
def test_same_resp3_replies_as_redis(diff_pair, name):
    run_case(diff_pair, RESP3_CASES[name])


def test_scan_iteration_returns_every_key(diff_pair):
    """ScanAll compares the two servers with each other; this checks the
    absolute count once, so a server that misses keys alike cannot pass."""
    _, tally = diff_pair
    with RawClient("127.0.0.1", tally.port) as c:
        assert c.call("FLUSHALL") == OK
        for step in populate(1000):
            assert c.call(*step.args) == OK
        kind, keys = run_scan(c, ScanAll("COUNT", "13"))
        assert kind == "keys", keys
        assert len(keys) == 1000 and keys == sorted(f"key:{i}".encode() for i in range(1000))
        c.call("FLUSHALL")
