// ioredis (latest) against tally-server, over RESP2 and RESP3, exactly as an
// app would use it: URL connection strings, counters, pipelines, multi(),
// WATCH, scanStream, and Redis's error messages on the error objects.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Redis from "ioredis";
import { startServer, HOST } from "./server.mjs";

const PASSWORD = "s3cret-pw";

// Runs `fn(client, server)` against a fresh server; always cleans up.
async function withClient({ password, protocol, options = {} }, fn) {
  const server = await startServer({ password });
  const client = new Redis(server.url, { protocol, maxRetriesPerRequest: 1, ...options });
  try {
    await fn(client, server);
  } finally {
    client.disconnect();
    await server.stop();
  }
}

// A client that must not retry: connection errors surface at once.
function oneShot(url, protocol) {
  return new Redis(url, { protocol, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
}

for (const protocol of [2, 3]) {
  describe(`ioredis over RESP${protocol}`, () => {
    it("counts with INCR, INCRBY, DECR, GET, MGET, SET EX and TTL", async () => {
      await withClient({ protocol }, async (r) => {
        assert.equal(await r.incr("usage:tool"), 1);
        assert.equal(await r.incrby("usage:tool", 41), 42);
        assert.equal(await r.decr("usage:tool"), 41);
        assert.equal(await r.decrby("usage:tool", 1), 40);
        assert.equal(await r.get("usage:tool"), "40");
        assert.equal(await r.get("usage:missing"), null);
        assert.equal(await r.set("session", "abc", "EX", 100), "OK");
        const ttl = await r.ttl("session");
        assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
        assert.equal(await r.ttl("usage:tool"), -1);
        assert.equal(await r.ttl("usage:missing"), -2);
        assert.deepEqual(await r.mget("usage:tool", "usage:missing", "session"), ["40", null, "abc"]);
        assert.equal(await r.incrbyfloat("f", "1.5"), "1.5");
        assert.equal(await r.dbsize(), 3);
      });
    });

    it("connects with the password in the URL and refuses a wrong one", async () => {
      const server = await startServer({ password: PASSWORD });
      try {
        const good = new Redis(server.url, { protocol });
        assert.equal(await good.incr("n"), 1);
        good.disconnect();

        // ioredis reports a failed AUTH as an "error" event, then closes.
        const wrong = oneShot(`redis://default:nope@${HOST}:${server.port}`, protocol);
        const errors = [];
        wrong.on("error", (err) => errors.push(err.message));
        await wrong.connect().catch(() => {});
        wrong.disconnect();
        assert.deepEqual(errors, ["WRONGPASS invalid username-password pair or user is disabled."]);

        // Without a password every command but AUTH/HELLO/QUIT is refused.
        // RESP3 (HELLO 3) needs the password up front, so try RESP2 here.
        const anonymous = new Redis(`redis://${HOST}:${server.port}`, {
          protocol: 2, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0,
        });
        await anonymous.connect();
        await assert.rejects(anonymous.get("n"), { message: "NOAUTH Authentication required." });
        anonymous.disconnect();
      } finally {
        await server.stop();
      }
    });

    it("logs in as a named user from the URL; a read-only user gets NOPERM", async () => {
      const server = await startServer({
        password: PASSWORD, args: ["--user", "app:app-pw", "--user", "viewer:view-pw:readonly"],
      });
      try {
        const app = new Redis(`redis://app:app-pw@${HOST}:${server.port}`, { protocol });
        assert.equal(await app.incr("hits"), 1);
        assert.equal(await app.call("ACL", "WHOAMI"), "app");
        app.disconnect();

        const viewer = new Redis(`redis://viewer:view-pw@${HOST}:${server.port}`, { protocol });
        assert.equal(await viewer.get("hits"), "1");
        await assert.rejects(viewer.incr("hits"), {
          message: "NOPERM this user has no permissions to run the 'incr' command",
        });
        viewer.disconnect();

        const wrong = oneShot(`redis://viewer:app-pw@${HOST}:${server.port}`, protocol);
        const errors = [];
        wrong.on("error", (err) => errors.push(err.message));
        await wrong.connect().catch(() => {});
        wrong.disconnect();
        assert.deepEqual(errors, ["WRONGPASS invalid username-password pair or user is disabled."]);
      } finally {
        await server.stop();
      }
    });

    it("runs a 1,000-command pipeline in order", async () => {
      await withClient({ protocol, password: PASSWORD }, async (r) => {
        const pipeline = r.pipeline();
        for (let i = 0; i < 1000; i++) pipeline.incr(`page:${i % 10}`);
        const results = await pipeline.exec();
        assert.equal(results.length, 1000);
        results.forEach(([err, value], i) => {
          assert.equal(err, null);
          assert.equal(value, Math.floor(i / 10) + 1);
        });
        assert.deepEqual(await r.mget("page:0", "page:9"), ["100", "100"]);
      });
    });

    it("runs multi() as one transaction with per-command errors", async () => {
      await withClient({ protocol }, async (r) => {
        const ok = await r.multi().incr("a").incrby("a", 9).get("a").exec();
        assert.deepEqual(ok, [[null, 1], [null, 10], [null, "10"]]);

        // A runtime error inside EXEC belongs to that command only.
        const mixed = await r.multi().set("s", "text").incr("s").incr("b").exec();
        assert.equal(mixed[0][1], "OK");
        assert.equal(mixed[1][0].message, "ERR value is not an integer or out of range");
        assert.deepEqual(mixed[2], [null, 1]);

        // A command refused while queuing discards the whole transaction.
        await assert.rejects(r.multi().incr("a").call("incr").exec(), {
          message: /EXECABORT Transaction discarded because of previous errors\./,
        });
        assert.equal(await r.get("a"), "10");
      });
    });

    it("makes EXEC fail when a WATCHed key changes", async () => {
      await withClient({ protocol }, async (r, server) => {
        const other = new Redis(server.url, { protocol });
        try {
          await r.set("balance", 10);
          await r.watch("balance");
          await other.incr("balance");
          assert.equal(await r.multi().set("balance", 0).exec(), null);
          assert.equal(await r.get("balance"), "11");

          // Unchanged watched keys let the transaction through.
          await r.watch("balance");
          assert.deepEqual(await r.multi().incr("balance").exec(), [[null, 12]]);
        } finally {
          other.disconnect();
        }
      });
    });

    it("iterates keys with scanStream, MATCH and COUNT", async () => {
      await withClient({ protocol }, async (r) => {
        const pipeline = r.pipeline();
        for (let i = 0; i < 300; i++) pipeline.incr(`scan:${i}`);
        for (let i = 0; i < 50; i++) pipeline.incr(`other:${i}`);
        await pipeline.exec();
        const seen = new Set();
        let batches = 0;
        for await (const keys of r.scanStream({ match: "scan:*", count: 40 })) {
          batches++;
          keys.forEach((k) => seen.add(k));
          assert.ok(batches < 1000, "scan does not terminate");
        }
        assert.equal(seen.size, 300);
        assert.ok(batches > 1, "COUNT 40 should take several steps");
        assert.ok([...seen].every((k) => k.startsWith("scan:")));
      });
    });

    it("carries Redis's exact error messages", async () => {
      await withClient({ protocol }, async (r) => {
        await r.set("word", "hello");
        await assert.rejects(r.incr("word"), { message: "ERR value is not an integer or out of range" });
        await assert.rejects(r.incrby("n", "x"), { message: "ERR value is not an integer or out of range" });
        await assert.rejects(r.call("get"), { message: "ERR wrong number of arguments for 'get' command" });
        await assert.rejects(r.call("nosuchcommand", "a", "b"), {
          message: "ERR unknown command 'nosuchcommand', with args beginning with: 'a' 'b' ",
        });
        await assert.rejects(r.call("client", "nosuch"), {
          message: "ERR unknown subcommand 'nosuch'. Try CLIENT HELP.",
        });
        await r.set("big", "9223372036854775807");
        await assert.rejects(r.incr("big"), { message: "ERR increment or decrement would overflow" });
      });
    });

    it("completes the handshake: HELLO, CLIENT SETNAME/SETINFO, INFO ready check", async () => {
      await withClient({ protocol, password: PASSWORD, options: { connectionName: "dashboard" } }, async (r) => {
        assert.equal(await r.client("GETNAME"), "dashboard");
        const info = await r.client("INFO");
        assert.match(info, /name=dashboard /);
        assert.match(info, /lib-name=ioredis /);
        assert.match(info, new RegExp(`resp=${protocol} `));
        const server = await r.info("server");
        assert.match(server, /^# Server\r\n/);
        assert.match(server, /redis_version:7\.0\.15\r\n/);
        assert.match(server, /tally_version:/);
        assert.match(await r.info("persistence"), /loading:0\r\n/);
        const config = await r.config("GET", "databases");
        assert.deepEqual(config, ["databases", "1"]);
      });
    });
  });
}
