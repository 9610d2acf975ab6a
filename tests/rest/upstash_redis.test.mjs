// @upstash/redis against Tally's REST API, with the client's defaults
// (auto-pipelining, base64 responses, read-your-writes, automatic
// deserialization), again with responseEncoding: false (UTF-8 JSON
// responses), and without automatic deserialization. Each suite has its own
// server and data directory.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "@upstash/redis";
import { respCommand, startTally } from "./tally.mjs";
import { ROUND_TRIP_STRINGS } from "./values.mjs";

function suite(name, clientOptions) {
  describe(name, () => {
    let tally;
    let redis;
    const key = (k) => `${name}:${k}`;

    before(async () => {
      tally = await startTally();
      redis = new Redis({ url: tally.url, token: tally.token, ...clientOptions });
    });
    after(async () => {
      await tally?.stop();
    });

    test("incr, incrby, decr, decrby and get give numbers", async () => {
      assert.equal(await redis.incr(key("c")), 1);
      assert.equal(await redis.incrby(key("c"), 41), 42);
      assert.equal(await redis.decr(key("c")), 41);
      assert.equal(await redis.decrby(key("c"), 1), 40);
      assert.equal(await redis.get(key("c")), 40);
      assert.equal(await redis.get(key("missing")), null);
      assert.equal(await redis.incrbyfloat(key("f"), 1.5), 1.5);
    });

    test("mget mixes numbers, strings and nulls in order", async () => {
      await redis.set(key("m1"), 7);
      await redis.set(key("m2"), "seven");
      assert.deepEqual(await redis.mget(key("m1"), key("nope"), key("m2")), [7, null, "seven"]);
    });

    test("set with ex and nx, ttl", async () => {
      assert.equal(await redis.set(key("s"), "v", { ex: 100 }), "OK");
      assert.equal(await redis.set(key("s"), "w", { nx: true }), null);
      assert.equal(await redis.get(key("s")), "v");
      const ttl = await redis.ttl(key("s"));
      assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
      assert.equal(await redis.ttl(key("no-ttl-missing")), -2);
      assert.equal(await redis.set(key("n"), 1, { nx: true, ex: 5 }), "OK");
      assert.equal(await redis.get(key("n")), 1);
      assert.equal(await redis.set(key("px"), "x", { px: 100000 }), "OK");
      assert.ok((await redis.pttl(key("px"))) > 90000);
    });

    test("JSON object values come back as objects", async () => {
      const value = { tool: "webo-news-overlay", counts: [1, 2, 3], nested: { ok: true, none: null } };
      assert.equal(await redis.set(key("obj"), value), "OK");
      assert.deepEqual(await redis.get(key("obj")), value);
    });

    test("UTF-8 and binary-ish strings round-trip, and RESP reads the same bytes", async () => {
      for (const [i, value] of ROUND_TRIP_STRINGS.entries()) {
        await redis.set(key(`str${i}`), value);
        const back = await redis.get(key(`str${i}`));
        assert.equal(back, value, `value #${i}`);
        const resp = await respCommand(tally.port, ["GET", key(`str${i}`)]);
        assert.deepEqual(resp, Buffer.from(value, "utf8"), `RESP view of value #${i}`);
      }
      // And the other way: bytes written over RESP, read over REST.
      await respCommand(tally.port, ["SET", key("from-resp"), "über 😀"]);
      assert.equal(await redis.get(key("from-resp")), "über 😀");
    });

    test("keys and scan see every key", async () => {
      const names = Array.from({ length: 120 }, (_, i) => key(`scan:${String(i).padStart(3, "0")}`));
      await Promise.all(names.map((n, i) => redis.set(n, i)));
      assert.deepEqual((await redis.keys(key("scan:*"))).sort(), names);
      const seen = new Set();
      let cursor = "0";
      let rounds = 0;
      do {
        const [next, batch] = await redis.scan(cursor, { match: key("scan:*"), count: 25 });
        assert.equal(typeof next, "string");
        for (const k of batch) seen.add(k);
        cursor = next;
        rounds++;
      } while (cursor !== "0" && rounds < 1000);
      assert.deepEqual([...seen].sort(), names);
      assert.ok(rounds > 1, "the scan took several rounds");
    });

    test("pipeline() keeps one result per command, in order", async () => {
      const p = redis.pipeline();
      p.incr(key("p"));
      p.incrby(key("p"), 9);
      p.set(key("p2"), "x");
      p.get(key("p"));
      p.get(key("p2"));
      assert.deepEqual(await p.exec(), [1, 10, "OK", 10, "x"]);
    });

    test("a failing command in a pipeline fails only its own entry", async () => {
      await redis.set(key("text"), "abc");
      const p = redis.pipeline();
      p.incr(key("pe"));
      p.incr(key("text"));
      p.get(key("pe"));
      const results = await p.exec({ keepErrors: true });
      assert.equal(results.length, 3);
      assert.equal(results[0].result, 1);
      assert.match(results[1].error, /^ERR value is not an integer or out of range$/);
      assert.equal(results[2].result, 1);
      const again = redis.pipeline();
      again.incr(key("text"));
      await assert.rejects(again.exec(), /Command 1 \[ incr \] failed: ERR value is not an integer/);
    });

    test("multi() runs as one transaction", async () => {
      const tx = redis.multi();
      tx.incr(key("m"));
      tx.incrby(key("m"), 2);
      tx.get(key("m"));
      tx.set(key("m-str"), "s");
      assert.deepEqual(await tx.exec(), [1, 3, 3, "OK"]);
    });

    test("concurrent transactions are isolated from each other", async () => {
      // Each transaction increments twice and reads: no other transaction's
      // increment can land in between, so every read is even and equals the
      // second increment's result.
      const results = await Promise.all(
        Array.from({ length: 50 }, () => {
          const tx = redis.multi();
          tx.incr(key("iso"));
          tx.incr(key("iso"));
          tx.get(key("iso"));
          return tx.exec();
        }),
      );
      for (const [first, second, read] of results) {
        assert.equal(second, first + 1);
        assert.equal(read, second);
        assert.equal(read % 2, 0);
      }
      assert.equal(await redis.get(key("iso")), 100);
    });

    test("200 concurrent incr calls on one key all get distinct results", async () => {
      const results = await Promise.all(Array.from({ length: 200 }, () => redis.incr(key("hot"))));
      assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(await redis.get(key("hot")), 200);
    });

    test("200 concurrent incr calls without auto-pipelining (200 parallel requests)", async () => {
      const direct = new Redis({ url: tally.url, token: tally.token, enableAutoPipelining: false, ...clientOptions });
      const results = await Promise.all(Array.from({ length: 200 }, () => direct.incr(key("hot2"))));
      assert.equal(new Set(results).size, 200);
      assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(await direct.get(key("hot2")), 200);
    });

    test("errors surface as errors", async () => {
      await redis.set(key("word"), "abc");
      await assert.rejects(redis.incr(key("word")), /ERR value is not an integer or out of range/);
      await assert.rejects(redis.exec(["nosuchcommand", "x"]),
        /ERR unknown command 'nosuchcommand', with args beginning with: 'x'/);
      await assert.rejects(redis.exec(["get"]), /ERR wrong number of arguments for 'get' command/);
      // The server carries on.
      assert.equal(await redis.incr(key("after-errors")), 1);
    });

    test("a wrong token is refused", async () => {
      const intruder = new Redis({ url: tally.url, token: "not-the-token", ...clientOptions });
      await assert.rejects(intruder.incr(key("nope")), /Unauthorized/);
      await assert.rejects(intruder.get(key("c")), /Unauthorized/);
      assert.equal(await redis.get(key("nope")), null);
    });

    test("read-your-writes: every answer carries a sync token that never decreases", async () => {
      await redis.incr(key("ryw"));
      const first = Number(redis.readYourWritesSyncToken);
      assert.ok(first > 0, `sync token ${redis.readYourWritesSyncToken}`);
      await redis.incr(key("ryw"));
      assert.ok(Number(redis.readYourWritesSyncToken) > first);
      assert.equal(await redis.get(key("ryw")), 2);
    });

    test("data written over REST survives a restart", async () => {
      await redis.set(key("durable"), { n: 1 });
      await redis.incrby(key("durable-count"), 5);
      await tally.restart();
      assert.deepEqual(await redis.get(key("durable")), { n: 1 });
      assert.equal(await redis.get(key("durable-count")), 5);
    });
  });
}

suite("defaults", {});
suite("utf8-responses", { responseEncoding: false });

describe("automaticDeserialization: false", () => {
  let tally;
  before(async () => {
    tally = await startTally();
  });
  after(async () => {
    await tally?.stop();
  });

  for (const responseEncoding of [undefined, false]) {
    test(`strings stay strings (responseEncoding ${responseEncoding})`, async () => {
      const redis = new Redis({ url: tally.url, token: tally.token, automaticDeserialization: false,
                                ...(responseEncoding === false ? { responseEncoding } : {}) });
      const k = (name) => `raw-${responseEncoding}:${name}`;
      assert.equal(await redis.incrby(k("n"), 42), 42);  // integers are JSON numbers
      assert.equal(await redis.get(k("n")), "42");
      await redis.set(k("obj"), { a: [1, "two"] });
      assert.equal(await redis.get(k("obj")), '{"a":[1,"two"]}');
      await redis.set(k("t"), "true");
      assert.deepEqual(await redis.mget(k("n"), k("none"), k("t")), ["42", null, "true"]);
      for (const value of ROUND_TRIP_STRINGS) {
        await redis.set(k("s"), value);
        assert.equal(await redis.get(k("s")), value);
      }
      const tx = redis.multi();
      tx.set(k("tx"), "OK");
      tx.get(k("tx"));
      tx.exists(k("tx"));
      assert.deepEqual(await tx.exec(), ["OK", "OK", 1]);
    });
  }
});
