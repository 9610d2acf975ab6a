// node-redis (the `redis` package, latest) against tally-server, over RESP2
// and RESP3: URL connection strings, counters, auto-pipelining of 1,000
// commands, multi(), WATCH, scanIterator, and Redis's error messages.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { startServer, HOST } from "./server.mjs";

const PASSWORD = "s3cret-pw";

async function connect(url, RESP, options = {}) {
  const client = createClient({ url, RESP, ...options });
  client.on("error", () => {});  // connection errors surface on the commands
  await client.connect();
  return client;
}

async function withClient({ password, RESP, options }, fn) {
  const server = await startServer({ password });
  let client;
  try {
    client = await connect(server.url, RESP, options);
    await fn(client, server);
  } finally {
    if (client?.isOpen) client.destroy();
    await server.stop();
  }
}

for (const RESP of [2, 3]) {
  describe(`node-redis over RESP${RESP}`, () => {
    it("counts with INCR, INCRBY, DECR, GET, MGET, SET EX and TTL", async () => {
      await withClient({ RESP }, async (c) => {
        assert.equal(await c.incr("usage:tool"), 1);
        assert.equal(await c.incrBy("usage:tool", 41), 42);
        assert.equal(await c.decr("usage:tool"), 41);
        assert.equal(await c.decrBy("usage:tool", 1), 40);
        assert.equal(await c.get("usage:tool"), "40");
        assert.equal(await c.get("usage:missing"), null);
        assert.equal(await c.set("session", "abc", { EX: 100 }), "OK");
        const ttl = await c.ttl("session");
        assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
        assert.equal(await c.ttl("usage:missing"), -2);
        assert.deepEqual(await c.mGet(["usage:tool", "usage:missing", "session"]), ["40", null, "abc"]);
        assert.equal(await c.dbSize(), 2);
      });
    });

    it("connects with the password in the URL and refuses a wrong one", async () => {
      const server = await startServer({ password: PASSWORD });
      try {
        const good = await connect(server.url, RESP);
        assert.equal(await good.incr("n"), 1);
        good.destroy();

        const wrong = createClient({
          url: `redis://default:nope@${HOST}:${server.port}`, RESP,
          socket: { reconnectStrategy: false },
        });
        wrong.on("error", () => {});
        await assert.rejects(wrong.connect(), {
          message: "WRONGPASS invalid username-password pair or user is disabled.",
        });
        if (wrong.isOpen) wrong.destroy();

        // RESP2 without a password connects, then every command is refused.
        const anonymous = await connect(`redis://${HOST}:${server.port}`, 2);
        await assert.rejects(anonymous.get("n"), { message: "NOAUTH Authentication required." });
        anonymous.destroy();
      } finally {
        await server.stop();
      }
    });

    it("logs in as a named user from the URL; a read-only user gets NOPERM", async () => {
      const server = await startServer({
        password: PASSWORD, args: ["--user", "app:app-pw", "--user", "viewer:view-pw:readonly"],
      });
      try {
        const app = await connect(`redis://app:app-pw@${HOST}:${server.port}`, RESP);
        assert.equal(await app.incr("hits"), 1);
        assert.equal(await app.sendCommand(["ACL", "WHOAMI"]), "app");
        app.destroy();

        const viewer = await connect(`redis://viewer:view-pw@${HOST}:${server.port}`, RESP);
        assert.equal(await viewer.get("hits"), "1");
        await assert.rejects(viewer.incr("hits"), {
          message: "NOPERM this user has no permissions to run the 'incr' command",
        });
        viewer.destroy();

        const wrong = createClient({
          url: `redis://viewer:app-pw@${HOST}:${server.port}`, RESP,
          socket: { reconnectStrategy: false },
        });
        wrong.on("error", () => {});
        await assert.rejects(wrong.connect(), {
          message: "WRONGPASS invalid username-password pair or user is disabled.",
        });
        if (wrong.isOpen) wrong.destroy();
      } finally {
        await server.stop();
      }
    });

    it("pipelines 1,000 commands", async () => {
      await withClient({ RESP, password: PASSWORD }, async (c) => {
        // node-redis writes commands issued in one tick as one pipeline.
        const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.incr(`page:${i % 10}`)));
        replies.forEach((value, i) => assert.equal(value, Math.floor(i / 10) + 1));
        // And explicitly, without MULTI.
        const batch = c.multi();
        for (let i = 0; i < 1000; i++) batch.incr("page:0");
        const piped = await batch.execAsPipeline();
        assert.equal(piped.length, 1000);
        assert.equal(piped[999], 1100);
      });
    });

    it("runs multi() as one transaction with per-command errors", async () => {
      await withClient({ RESP }, async (c) => {
        assert.deepEqual(await c.multi().incr("a").incrBy("a", 9).get("a").exec(), [1, 10, "10"]);

        const mixed = await c.multi().set("s", "text").incr("s").incr("b").exec().catch((err) => err);
        // node-redis rejects with the replies when one of them is an error.
        assert.ok(mixed instanceof Error, "multi with a failing command should reject");
        assert.equal(mixed.replies[0], "OK");
        assert.equal(mixed.replies[1].message, "ERR value is not an integer or out of range");
        assert.equal(mixed.replies[2], 1);

        // A command refused while queuing makes EXEC discard everything;
        // node-redis reports the refusal itself, as it does with Redis.
        const aborted = c.multi().incr("a").addCommand(["INCR"]).exec();
        await assert.rejects(aborted, { message: "ERR wrong number of arguments for 'incr' command" });
        assert.equal(await c.get("a"), "10");
      });
    });

    it("makes EXEC fail when a WATCHed key changes", async () => {
      await withClient({ RESP }, async (c, server) => {
        const other = await connect(server.url, RESP);
        try {
          await c.set("balance", "10");
          await c.watch("balance");
          await other.incr("balance");
          await assert.rejects(c.multi().set("balance", "0").exec(), (err) => {
            assert.equal(err.constructor.name, "WatchError");
            return true;
          });
          assert.equal(await c.get("balance"), "11");
          await c.watch("balance");
          assert.deepEqual(await c.multi().incr("balance").exec(), [12]);
        } finally {
          other.destroy();
        }
      });
    });

    it("iterates keys with scanIterator, MATCH and COUNT", async () => {
      await withClient({ RESP }, async (c) => {
        await Promise.all(Array.from({ length: 300 }, (_, i) => c.incr(`scan:${i}`)));
        await Promise.all(Array.from({ length: 50 }, (_, i) => c.incr(`other:${i}`)));
        const seen = new Set();
        let steps = 0;
        for await (const batch of c.scanIterator({ MATCH: "scan:*", COUNT: 40 })) {
          steps++;
          for (const key of [].concat(batch)) seen.add(key);
          assert.ok(steps < 1000, "scan does not terminate");
        }
        assert.equal(seen.size, 300);
        assert.ok([...seen].every((k) => k.startsWith("scan:")));
      });
    });

    it("carries Redis's exact error messages", async () => {
      await withClient({ RESP }, async (c) => {
        await c.set("word", "hello");
        await assert.rejects(c.incr("word"), { message: "ERR value is not an integer or out of range" });
        await assert.rejects(c.sendCommand(["GET"]), { message: "ERR wrong number of arguments for 'get' command" });
        await assert.rejects(c.sendCommand(["NOSUCHCOMMAND", "a"]), {
          message: "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' ",
        });
        await assert.rejects(c.sendCommand(["CONFIG", "NOSUCH"]), {
          message: "ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.",
        });
      });
    });

    it("completes the handshake and speaks the protocol it asked for", async () => {
      await withClient({ RESP, password: PASSWORD, options: { name: "dashboard" } }, async (c) => {
        assert.equal(await c.clientGetName(), "dashboard");
        const info = await c.clientInfo();
        assert.equal(info.name, "dashboard");
        assert.equal(info.libName, "node-redis");
        assert.equal(Number(info.resp), RESP);
        const hello = await c.hello();
        assert.equal(hello.proto, RESP);
        assert.equal(hello.version, "7.0.15");
        assert.equal(hello.mode, "standalone");
        assert.equal(hello.role, "master");
        assert.deepEqual(await c.configGet("databases"), { databases: "1" });
        const text = await c.info("keyspace");
        assert.match(String(text), /^# Keyspace\r\n/);
        assert.equal(await c.sendCommand(["CLIENT", "GETNAME"]), "dashboard");
      });
    });
  });
}
