// @vercel/kv against Tally's REST API, configured the way Vercel apps are:
// KV_REST_API_URL and KV_REST_API_TOKEN in the environment and the ready-made
// `kv` client (and the deprecated default export), plus createClient() for
// a URL with a path prefix, read-only tokens and UTF-8 responses.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTally } from "./tally.mjs";
import { ROUND_TRIP_STRINGS } from "./values.mjs";

describe("@vercel/kv", () => {
  let tally;
  let kv;
  let kvDefault;
  let createClient;

  before(async () => {
    tally = await startTally({ readonlyToken: "read-only-token" });
    process.env.KV_REST_API_URL = tally.url;
    process.env.KV_REST_API_TOKEN = tally.token;
    // The module reads the environment when `kv` is first used.
    const module = await import("@vercel/kv");
    kv = module.kv;
    kvDefault = module.default;
    createClient = module.createClient;
  });
  after(async () => {
    await tally?.stop();
  });

  test("counters: incr, incrby, decr, get as numbers", async () => {
    assert.equal(await kv.incr("usage:webo-news-overlay"), 1);
    assert.equal(await kv.incr("usage:webo-news-overlay"), 2);
    assert.equal(await kv.incrby("usage:webo-news-overlay", 10), 12);
    assert.equal(await kv.decr("usage:webo-news-overlay"), 11);
    assert.equal(await kv.get("usage:webo-news-overlay"), 11);
    assert.equal(await kv.get("usage:never-used"), null);
  });

  test("the default export is the same client", async () => {
    assert.equal(await kvDefault.incr("usage:default-export"), 1);
    assert.equal(await kv.get("usage:default-export"), 1);
  });

  test("mget, set with ex and nx, ttl", async () => {
    await kv.set("a", 1);
    await kv.set("b", "two");
    assert.deepEqual(await kv.mget("a", "b", "c"), [1, "two", null]);
    assert.equal(await kv.set("session", { user: "ada" }, { ex: 60 }), "OK");
    assert.equal(await kv.set("session", { user: "eve" }, { nx: true }), null);
    assert.deepEqual(await kv.get("session"), { user: "ada" });
    const ttl = await kv.ttl("session");
    assert.ok(ttl > 50 && ttl <= 60, `ttl ${ttl}`);
    assert.equal(await kv.ttl("a"), -1);
  });

  test("UTF-8 and binary-ish strings round-trip", async () => {
    for (const [i, value] of ROUND_TRIP_STRINGS.entries()) {
      await kv.set(`text:${i}`, value);
      assert.equal(await kv.get(`text:${i}`), value, `value #${i}`);
    }
  });

  test("keys and scanIterator list every counter", async () => {
    const tools = Array.from({ length: 75 }, (_, i) => `usage:tool-${i}`);
    await Promise.all(tools.map((k) => kv.incr(k)));
    const listed = await kv.keys("usage:tool-*");
    assert.deepEqual(listed.sort(), [...tools].sort());
    const iterated = [];
    for await (const k of kv.scanIterator({ match: "usage:tool-*", count: 10 })) iterated.push(k);
    assert.deepEqual(iterated.sort(), [...tools].sort());
  });

  test("pipeline() and multi()", async () => {
    const p = kv.pipeline();
    p.incr("pipe");
    p.incr("pipe");
    p.get("pipe");
    assert.deepEqual(await p.exec(), [1, 2, 2]);
    const tx = kv.multi();
    tx.incrby("tx", 5);
    tx.decr("tx");
    tx.get("tx");
    assert.deepEqual(await tx.exec(), [5, 4, 4]);
  });

  test("200 concurrent incr calls: distinct results, exact total", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => kv.incr("hot")));
    assert.equal(new Set(results).size, 200);
    assert.equal(Math.max(...results), 200);
    assert.equal(await kv.get("hot"), 200);
  });

  test("errors surface as errors", async () => {
    await kv.set("not-a-number", "abc");
    await assert.rejects(kv.incr("not-a-number"), /ERR value is not an integer or out of range/);
    await assert.rejects(kv.incrby("usage:x", "1.5"), /ERR value is not an integer or out of range/);
  });

  test("a wrong token is refused", async () => {
    const wrong = createClient({ url: tally.url, token: "wrong-token" });
    await assert.rejects(wrong.incr("usage:intruder"), /Unauthorized/);
    assert.equal(await kv.get("usage:intruder"), null);
  });

  test("a read-only token reads but cannot write", async () => {
    const reader = createClient({ url: tally.url, token: "read-only-token" });
    assert.equal(await reader.get("hot"), 200);
    assert.deepEqual(await reader.mget("a", "b"), [1, "two"]);
    await assert.rejects(reader.incr("hot"),
      /NOPERM this user has no permissions to run the 'incr' command/);
    await assert.rejects(reader.multi().incr("hot").exec(), /NOPERM/);
    assert.deepEqual(await reader.multi().get("hot").get("a").exec(), [200, 1]);
    assert.equal(await kv.get("hot"), 200);
  });

  test("a base URL with a path prefix, and UTF-8 responses", async () => {
    for (const prefix of ["/kv", "/api/kv/"]) {
      const client = createClient({ url: tally.url + prefix, token: tally.token, responseEncoding: false });
      assert.equal(await client.incr(`prefixed${prefix}`), 1);
      assert.equal(await client.get(`prefixed${prefix}`), 1);
      assert.deepEqual(await client.multi().incr(`prefixed${prefix}`).get(`prefixed${prefix}`).exec(), [2, 2]);
      const keys = [];
      for await (const k of client.scanIterator({ match: "prefixed*" })) keys.push(k);
      assert.ok(keys.includes(`prefixed${prefix}`));
    }
  });
});
