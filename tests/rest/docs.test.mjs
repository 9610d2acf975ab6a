// The examples in docs/migrating-from-vercel-kv.md run as written: each curl
// command must print the answer shown under it, and the data-copy command
// (tally-server import) must copy a real redis-server's awkward keys and
// values into Tally.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HOST, freePort, repoRoot, respCommand, serverBinary, sleep, startTally } from "./tally.mjs";

const DOC = path.join(repoRoot, "docs", "migrating-from-vercel-kv.md");
const COMMAND_TIMEOUT_MS = 30000;

// The fenced block after the `<!-- tested: name -->` marker.
function testedBlock(name) {
  const text = readFileSync(DOC, "utf8");
  const marker = text.indexOf(`<!-- tested: ${name} -->`);
  assert.ok(marker >= 0, `no "tested: ${name}" block in ${DOC}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(marker));
  assert.ok(match, `no code block after "tested: ${name}"`);
  return match[1];
}

function run(file, args, { env = {}, input, cwd } = {}) {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { ...process.env, ...env }, timeout: COMMAND_TIMEOUT_MS, cwd },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

describe("docs/migrating-from-vercel-kv.md", () => {
  let tally;
  before(async () => {
    tally = await startTally();
  });
  after(async () => {
    await tally?.stop();
  });

  test("every curl example prints the answer shown", async () => {
    const lines = testedBlock("curl").split("\n");
    let checked = 0;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].startsWith("curl ")) continue;
      const expected = lines[i + 1]?.startsWith("# ") ? lines[i + 1].slice(2) : null;
      assert.ok(expected !== null, `no expected answer under: ${lines[i]}`);
      const { code, stdout, stderr } = await run("bash", ["-c", lines[i]], {
        env: { KV_REST_API_URL: tally.url, KV_REST_API_TOKEN: tally.token },
      });
      assert.equal(code, 0, `${lines[i]}\n${stderr}`);
      assert.equal(stdout.trim(), expected, lines[i]);
      checked++;
    }
    assert.ok(checked >= 10, `only ${checked} curl examples found`);
  });

  test("the copy command moves every string key, bytes and expiry intact", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tally-copy-"));
    const redisPort = await freePort();
    const redis = spawn(process.env.REDIS_SERVER || "redis-server",
      ["--port", String(redisPort), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" });
    try {
      const deadline = Date.now() + 10000;
      for (;;) {
        try {
          if ((await respCommand(redisPort, ["PING"])) === "PONG") break;
        } catch {
          // not listening yet
        }
        assert.ok(Date.now() < deadline, "redis-server did not start");
        await sleep(25);
      }
      const values = {
        "usage:webo-news-overlay": Buffer.from("42"),
        "weird key\nwith \"quotes\" and \\": Buffer.from("line1\nline2 \"q\" \\ tab\t"),
        "bytes": Buffer.from([0, 1, 2, 0xc3, 0xa9, 0xff, 0xfe, 0x7f, 0x20]),
        "ütf-8 ✓": Buffer.from("😀 value"),
        "empty": Buffer.alloc(0),
      };
      for (const [key, value] of Object.entries(values)) {
        assert.equal(await respCommand(redisPort, ["SET", key, value]), "OK");
      }
      await respCommand(redisPort, ["SET", "session", "abc", "PX", "100000"]);
      await respCommand(redisPort, ["HSET", "a-hash", "f", "v"]);

      // The block as written, with the server under test as `tally-server` on PATH.
      const script = path.join(dir, "copy-to-tally.sh");
      writeFileSync(script, testedBlock("copy"), { mode: 0o755 });
      const bin = path.join(dir, "bin");
      mkdirSync(bin);
      symlinkSync(path.resolve(serverBinary()), path.join(bin, "tally-server"));
      const { code, stderr } = await run("bash", ["-euo", "pipefail", script], {
        cwd: dir,
        env: {
          KV_URL: `redis://${HOST}:${redisPort}`,
          TALLY_URL: `redis://${HOST}:${tally.port}`,
          PATH: `${bin}:${process.env.PATH}`,
        },
      });
      assert.equal(code, 0, stderr);
      assert.match(stderr, /import: complete: 6 keys copied/);
      assert.match(stderr, /skipped 1 key of other types: hash 1/);

      for (const [key, value] of Object.entries(values)) {
        const got = await respCommand(tally.port, ["GET", key]);
        assert.deepEqual(got, value, JSON.stringify(key));
      }
      const ttl = await respCommand(tally.port, ["PTTL", "session"]);
      assert.ok(ttl > 90000 && ttl <= 100000, `PTTL ${ttl}`);
      assert.equal(await respCommand(tally.port, ["EXISTS", "a-hash"]), 0);
      // And the REST API sees the copied counter as a number.
      const r = await tally.fetch("/", { body: ["incr", "usage:webo-news-overlay"] });
      assert.deepEqual(r.body, { result: 43 });
    } finally {
      redis.kill("SIGTERM");
      await new Promise((resolve) => (redis.exitCode !== null ? resolve() : redis.on("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
