// The REST protocol itself, request by request with fetch and raw sockets:
// status codes, JSON shapes, base64, tokens, limits, keep-alive, and the
// start-up rules. The client suites prove the same server works for real apps.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HOST, Tally, freePort, serverBinary, startTally } from "./tally.mjs";

const b64 = (text) => Buffer.from(text, "utf8").toString("base64");

describe("REST protocol", () => {
  let tally;
  before(async () => {
    tally = await startTally({ readonlyToken: "ro-1,ro-2", args: ["--http-max-body-size", "4kb"] });
  });
  after(async () => {
    await tally?.stop();
  });

  test("one command: {result} or 400 {error}", async () => {
    let r = await tally.fetch("/", { body: ["incr", "one"] });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.text, '{"result":1}');
    r = await tally.fetch("/", { body: ["get", "one"] });
    assert.equal(r.text, '{"result":"1"}');
    r = await tally.fetch("/", { body: ["get", "none"] });
    assert.equal(r.text, '{"result":null}');
    r = await tally.fetch("/", { body: ["set", "word", "abc"] });
    r = await tally.fetch("/", { body: ["incr", "word"] });
    assert.equal(r.status, 400);
    assert.equal(r.text, '{"error":"ERR value is not an integer or out of range"}');
    r = await tally.fetch("/", { body: ["nosuch", "a", "b"] });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' " });
    r = await tally.fetch("/", { body: ["GET"] });
    assert.deepEqual(r.body, { error: "ERR wrong number of arguments for 'get' command" });
  });

  test("numbers, booleans and null arguments become their JSON text", async () => {
    await tally.fetch("/", { body: ["set", "n", 42] });
    assert.deepEqual((await tally.fetch("/", { body: ["incrby", "n", 5] })).body, { result: 47 });
    const body = '[["set","f",0.1],["set","big",1e+21],["set","t",true],["set","nul",null],' +
                 '["mget","f","big","t","nul"]]';
    const r = await tally.fetch("/pipeline", { body });
    assert.deepEqual(r.body.at(-1), { result: ["0.1", "1e+21", "true", "null"] });
    assert.equal((await tally.fetch("/", { body: ["set", "obj", { a: 1 }] })).status, 400);
  });

  test("pipeline: one entry per command, in order, errors included", async () => {
    const r = await tally.fetch("/pipeline", {
      body: [["set", "p", "1"], ["incr", "p"], ["incr", "word"], ["nosuch"], ["get", "p"], ["scan", "0", "match", "p*"]],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [
      { result: "OK" },
      { result: 2 },
      { error: "ERR value is not an integer or out of range" },
      { error: "ERR unknown command 'nosuch', with args beginning with: " },
      { result: "2" },
      { result: ["0", ["p"]] },
    ]);
  });

  test("multi-exec: atomic entries, or one 400 error when rejected as a whole", async () => {
    let r = await tally.fetch("/multi-exec", { body: [["incr", "tx"], ["incr", "word"], ["get", "tx"]] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [{ result: 1 }, { error: "ERR value is not an integer or out of range" }, { result: "1" }]);
    r = await tally.fetch("/multi-exec", { body: [["incr", "tx"], ["nosuch"], ["incr", "tx"]] });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      error: "EXECABORT Transaction discarded because of: unknown command 'nosuch', with args beginning with: ",
    });
    r = await tally.fetch("/multi-exec", { body: [["incr", "tx"], ["get"]] });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^EXECABORT .*wrong number of arguments for 'get' command/);
    r = await tally.fetch("/multi-exec", { body: [["incr", "tx"], ["exec"]] });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /Command not allowed inside a transaction/);
    // Nothing of the rejected transactions ran.
    assert.deepEqual((await tally.fetch("/", { body: ["get", "tx"] })).body, { result: "1" });
  });

  test("Upstash-Encoding: base64 encodes every string, never errors", async () => {
    const headers = { "Upstash-Encoding": "base64" };
    let r = await tally.fetch("/", { body: ["set", "enc", "héllo"], headers });
    assert.equal(r.text, `{"result":"${b64("OK")}"}`);
    r = await tally.fetch("/pipeline", {
      headers,
      body: [["get", "enc"], ["incr", "enc-n"], ["ping"], ["type", "enc"], ["scan", "0", "match", "enc"],
             ["get", "missing"], ["incr", "enc"]],
    });
    assert.deepEqual(r.body, [
      { result: b64("héllo") },
      { result: 1 },
      { result: b64("PONG") },
      { result: b64("string") },
      { result: [b64("0"), [b64("enc")]] },
      { result: null },
      { error: "ERR value is not an integer or out of range" },
    ]);
  });

  test("tokens: 401 {error: Unauthorized} on every path without the right one", async () => {
    const targets = [["POST", "/"], ["POST", "/pipeline"], ["POST", "/multi-exec"], ["GET", "/incr/x"],
                     ["POST", "/kv"], ["GET", "/nosuch"], ["GET", "/"], ["PUT", "/incr/x"]];
    for (const [method, target] of targets) {
      for (const token of [null, "wrong", "undefined", ""]) {
        const r = await tally.fetch(target, { method, token, body: method === "POST" ? ["incr", "x"] : undefined });
        assert.equal(r.status, 401, `${method} ${target} token ${token}`);
        assert.equal(r.text, '{"error":"Unauthorized"}');
        assert.equal(r.headers.get("content-type"), "application/json");
      }
    }
    const r = await tally.fetch(`/incr/x?_token=wrong`, { method: "GET", token: null });
    assert.equal(r.status, 401);
    assert.deepEqual((await tally.fetch("/get/x", { method: "GET" })).body, { result: null });
  });

  test("?_token= works like the header", async () => {
    const r = await tally.fetch(`/incr/qt?_token=${encodeURIComponent(tally.token)}`, { method: "GET", token: null });
    assert.deepEqual(r.body, { result: 1 });
    const p = await tally.fetch(`/pipeline?_token=${tally.token}`, { token: null, body: [["get", "qt"]] });
    assert.deepEqual(p.body, [{ result: "1" }]);
  });

  test("read-only tokens run reads and get NOPERM for the rest", async () => {
    for (const token of ["ro-1", "ro-2"]) {
      assert.deepEqual((await tally.fetch("/", { token, body: ["get", "one"] })).body, { result: "1" });
      const r = await tally.fetch("/pipeline", { token, body: [["incr", "one"], ["get", "one"], ["flushall"]] });
      assert.deepEqual(r.body, [
        { error: "NOPERM this user has no permissions to run the 'incr' command" },
        { result: "1" },
        { error: "NOPERM this user has no permissions to run the 'flushall' command" },
      ]);
      const w = await tally.fetch("/", { token, body: ["config", "set", "http-token", "mine"] });
      assert.equal(w.status, 400);
      assert.deepEqual(w.body, { error: "NOPERM this user has no permissions to run the 'config|set' command" });
    }
  });

  test("path-style commands, query arguments and a POST body as the last argument", async () => {
    let r = await tally.fetch("/set/path%20key/v1?EX=100", { method: "GET" });
    assert.deepEqual(r.body, { result: "OK" });
    r = await tally.fetch("/ttl/path%20key", { method: "GET" });
    assert.ok(r.body.result > 90 && r.body.result <= 100);
    r = await tally.fetch("/set/posted", { body: "a body with spaces\nand a newline" });
    assert.deepEqual(r.body, { result: "OK" });
    r = await tally.fetch("/get/posted", { method: "GET" });
    assert.deepEqual(r.body, { result: "a body with spaces\nand a newline" });
    r = await tally.fetch("/get/pipeline", { method: "GET" });  // a key, not the endpoint
    assert.deepEqual(r.body, { result: null });
  });

  test("404, 405, 400 and 413 answer with JSON bodies", async () => {
    let r = await tally.fetch("/nosuch/thing", { method: "GET" });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { error: "ERR unknown command 'nosuch', with args beginning with: 'thing' " });
    r = await tally.fetch("/", { method: "GET" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "POST");
    assert.match(r.body.error, /^ERR method GET not allowed here; use POST$/);
    r = await tally.fetch("/pipeline", { method: "GET" });
    assert.equal(r.status, 405);
    r = await tally.fetch("/incr/x", { method: "DELETE" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "GET, POST");
    for (const [body, error] of [
      ["[\"incr\",", /^ERR invalid JSON in request body: /],
      ["", /^ERR invalid JSON in request body: /],
      ["[]", /^ERR empty command$/],
      ['{"command":"incr"}', /^ERR the request body must be a JSON array of command arguments/],
    ]) {
      r = await tally.fetch("/", { body });
      assert.equal(r.status, 400, body);
      assert.match(r.body.error, error);
    }
    r = await tally.fetch("/pipeline", { body: "[]" });
    assert.deepEqual(r.body, { error: "ERR empty command list: send at least one command" });
    r = await tally.fetch("/multi-exec", { body: '["incr","a"]' });
    assert.match(r.body.error, /^ERR the request body must be a JSON array of commands/);
    r = await tally.fetch("/", { body: JSON.stringify(["set", "big", "x".repeat(5000)]) });
    assert.equal(r.status, 413);
    assert.deepEqual(r.body, { error: "ERR request body too large: the limit is 4096 bytes (http-max-body-size)" });
    // The server is fine afterwards.
    assert.equal((await tally.fetch("/", { body: ["ping"] })).status, 200);
  });

  test("every answer to a command carries a sync token that grows with writes", async () => {
    const tokens = [];
    for (let i = 0; i < 5; i++) {
      const r = await tally.fetch("/", { body: ["incr", "sync"] });
      tokens.push(Number(r.headers.get("upstash-sync-token")));
    }
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], tokens.join(","));
    const read = await tally.fetch("/", { body: ["get", "sync"] });
    assert.equal(Number(read.headers.get("upstash-sync-token")), tokens.at(-1));
  });

  test("keep-alive: many requests on one connection, and HTTP pipelining", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set();
    for (let i = 1; i <= 50; i++) {
      const result = await new Promise((resolve, reject) => {
        const req = http.request(`${tally.url}/`, {
          method: "POST", agent, headers: { Authorization: `Bearer ${tally.token}`, "Content-Type": "application/json" },
        }, (res) => {
          sockets.add(res.socket);
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(JSON.parse(text)));
        });
        req.on("error", reject);
        req.end(JSON.stringify(["incr", "keepalive"]));
      });
      assert.deepEqual(result, { result: i });
    }
    assert.equal(sockets.size, 1);
    agent.destroy();

    // Two requests written at once on one socket get two answers, in order.
    const request = (body) =>
      `POST / HTTP/1.1\r\nHost: ${HOST}\r\nAuthorization: Bearer ${tally.token}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const raw = await new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: tally.httpPort });
      let text = "";
      socket.setTimeout(5000, () => reject(new Error(`timeout; got ${text}`)));
      socket.on("error", reject);
      socket.on("data", (d) => {
        text += d;
        if ((text.match(/\{"result":/g) || []).length === 2) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.write(request('["incr","pipelined"]') + request('["incrby","pipelined",10]'));
    });
    assert.match(raw, /\{"result":1\}[\s\S]*\{"result":11\}/);
  });

  test("malformed HTTP gets a JSON 400 or 431 and the connection closes", async () => {
    const cases = [
      ["GARBAGE\r\n\r\n", /^HTTP\/1\.1 400 [\s\S]*\{"error":"ERR malformed HTTP request: bad method"\}$/],
      ["POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", /^HTTP\/1\.1 400 [\s\S]*"ERR malformed HTTP request: bad Content-Length"/],
      [`GET /get/${"k".repeat(70000)} HTTP/1.1\r\n\r\n`, /^HTTP\/1\.1 431 [\s\S]*"ERR request header too large: the limit is 65536 bytes"/],
    ];
    for (const [request, expected] of cases) {
      const answer = await new Promise((resolve, reject) => {
        const socket = net.connect({ host: HOST, port: tally.httpPort });
        let text = "";
        socket.setTimeout(5000, () => reject(new Error(`no close; got ${text}`)));
        socket.on("error", reject);
        socket.on("data", (d) => (text += d));
        socket.on("end", () => resolve(text));
        socket.write(request);
      });
      assert.match(answer, expected);
      assert.match(answer, /\r\nConnection: close\r\n/);
    }
  });

  test("Expect: 100-continue is answered before the body is sent", async () => {
    const body = JSON.stringify(["set", "expect", "y".repeat(2000)]);
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: tally.httpPort });
      let text = "";
      socket.setTimeout(5000, () => reject(new Error(`timeout; got ${text}`)));
      socket.on("error", reject);
      socket.on("data", (d) => {
        text += d;
        if (text === "HTTP/1.1 100 Continue\r\n\r\n") socket.write(body);
        if (text.endsWith("}")) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nAuthorization: Bearer ${tally.token}\r\n` +
                   `Expect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    });
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*\{"result":"OK"\}$/);
  });

  test("300 concurrent connections", async () => {
    const results = await Promise.all(Array.from({ length: 300 }, () =>
      new Promise((resolve, reject) => {
        const req = http.request(`${tally.url}/`, {
          method: "POST", agent: false, headers: { Authorization: `Bearer ${tally.token}` },
        }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(JSON.parse(text).result));
        });
        req.on("error", reject);
        req.end(JSON.stringify(["incr", "concurrent"]));
      })));
    assert.equal(new Set(results).size, 300);
    assert.equal(Math.max(...results), 300);
  });

  test("QUIT closes the connection after its answer", async () => {
    const r = await tally.fetch("/", { body: ["quit"] });
    assert.deepEqual(r.body, { result: "OK" });
    assert.equal(r.headers.get("connection"), "close");
  });

  test("tokens can be rotated with CONFIG SET", async () => {
    let r = await tally.fetch("/", { body: ["config", "set", "http-token", "new-1 new-2"] });
    assert.deepEqual(r.body, { result: "OK" });
    assert.equal((await tally.fetch("/", { body: ["ping"] })).status, 401);
    assert.equal((await tally.fetch("/", { token: "new-2", body: ["ping"] })).status, 200);
    r = await tally.fetch("/", { token: "new-1", body: ["config", "set", "http-token", tally.token] });
    assert.deepEqual(r.body, { result: "OK" });
  });
});

describe("REST start-up and token rules", () => {
  test("requirepass is the token when http-token is not set", async () => {
    const tally = await startTally({ token: null, requirepass: "resp-password" });
    try {
      assert.equal((await tally.fetch("/", { token: "resp-password", body: ["incr", "k"] })).status, 200);
      assert.equal((await tally.fetch("/", { token: "other", body: ["incr", "k"] })).status, 401);
      assert.equal((await tally.fetch("/", { token: null, body: ["incr", "k"] })).status, 401);
    } finally {
      await tally.stop();
    }
  });

  test("a config file may list several tokens on one line", async () => {
    const tally = new Tally({ token: null });
    const conf = path.join(tally.dir, "tally.conf");
    writeFileSync(conf, "# REST API\nhttp-token first-token, second-token third-token\n" +
                        "http-readonly-token ro-a ro-b\n");
    tally.args = function args() {
      return [conf, ...Tally.prototype.args.call(this)];
    };
    await tally.start();
    try {
      for (const token of ["first-token", "second-token", "third-token"]) {
        assert.deepEqual((await tally.fetch("/", { token, body: ["incr", "k"] })).status, 200, token);
      }
      const ro = await tally.fetch("/", { token: "ro-b", body: ["incr", "k"] });
      assert.match(ro.body.error, /^NOPERM/);
      assert.equal((await tally.fetch("/", { token: "first-token,", body: ["incr", "k"] })).status, 401);
    } finally {
      await tally.stop();
    }
  });

  test("without any token, a loopback-only REST API is open", async () => {
    const tally = await startTally({ token: null });
    try {
      assert.deepEqual((await tally.fetch("/", { token: null, body: ["incr", "k"] })).body, { result: 1 });
      assert.deepEqual((await tally.fetch("/", { token: "anything", body: ["incr", "k"] })).body, { result: 2 });
    } finally {
      await tally.stop();
    }
  });

  test("without any token, a non-loopback REST API refuses to start", async () => {
    // Refused before anything binds, so nothing listens beyond loopback.
    const tally = new Tally({ token: null });
    tally.port = await freePort();
    tally.httpPort = await freePort();
    const args = [...tally.args(), "--http-bind", "0.0.0.0"];
    const proc = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    const code = await new Promise((resolve) => proc.on("exit", resolve));
    tally.proc = null;
    await tally.stop();
    assert.equal(code, 1);
    assert.match(output, /refusing to serve the REST API on 0\.0\.0\.0 without a token: set http-token/);
  });
});
