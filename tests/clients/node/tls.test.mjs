// RESP over TLS (tls-port, tls-cert-file, tls-key-file, tls-ca-cert-file,
// tls-auth-clients) with real clients: redis-cli --tls and ioredis rediss://,
// against a CA made for the run (test_pki.mjs). Also what must be refused
// (a server the client's CA did not sign, a client without an acceptable
// certificate, plain text on the TLS port, a handshake that never ends) and
// bad TLS settings at start-up.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { HOST, serverBinary, startServer } from "./server.mjs";
import { makeTestPki } from "./test_pki.mjs";

let pki;
const serverFiles = () => ({ "tls-cert-file": pki.serverCert, "tls-key-file": pki.serverKey });
// The server of the last suite, with a client that connected to its TLS port
// and never started its handshake: the server must drop it after its
// handshake timeout (10 s) while serving everyone else meanwhile.
let sideBySide;
let silent;
let silentClosed;
before(async () => {
  pki = makeTestPki();
  sideBySide = await startServer({ tls: { ...serverFiles(), "tls-auth-clients": "no" } });
  silent = net.connect({ host: HOST, port: sideBySide.tlsPort });
  silentClosed = closed(silent, Date.now());
});
after(async () => {
  silent?.destroy();
  await sideBySide?.stop();
  pki?.remove();
});

// redis-cli --tls against the server's TLS port; resolves { code, stdout, stderr }.
function redisCli(server, args, { ca = pki.ca, cert, key } = {}) {
  const tlsArgs = ["--tls", "--cacert", ca];
  if (cert) tlsArgs.push("--cert", cert, "--key", key);
  return new Promise((resolve) => {
    execFile("redis-cli", ["-h", HOST, "-p", String(server.tlsPort), ...tlsArgs, ...args],
             { timeout: 20000 }, (err, stdout, stderr) => {
               resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
             });
  });
}

// An ioredis client over TLS that reports a failed connection at once
// instead of retrying.
function tlsClient(server, tls, protocol = 2) {
  return new Redis(server.tlsUrl, {
    tls: { ...tls, servername: "localhost" },
    protocol,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
}

// Connects with ioredis and runs one INCR; resolves its result, or rejects
// with the connection's error (a refused handshake).
async function tlsIncr(server, tls, key) {
  const client = tlsClient(server, tls);
  const errors = [];
  client.on("error", (err) => errors.push(err));
  try {
    await client.connect();
    return await client.incr(key);
  } catch (err) {
    throw errors[0] || err;
  } finally {
    client.disconnect();
  }
}

// Resolves once the server closes `socket`, with the milliseconds since `since`.
function closed(socket, since) {
  return new Promise((resolve) => {
    socket.on("error", () => {});
    socket.on("close", () => resolve(Date.now() - since));
  });
}

describe("TLS only (port 0), tls-auth-clients yes (the default)", () => {
  let server;
  before(async () => {
    server = await startServer({ plain: false, tls: { ...serverFiles(), "tls-ca-cert-file": pki.ca } });
  });
  after(async () => server?.stop());

  const withCert = () => ({ cert: pki.clientCert, key: pki.clientKey });

  it("serves clients with a certificate signed by tls-ca-cert-file", async () => {
    assert.deepEqual(await redisCli(server, ["INCR", "mtls"], withCert()), { code: 0, stdout: "1\n", stderr: "" });
    const tls = { ca: pki.pem(pki.ca), cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) };
    assert.equal(await tlsIncr(server, tls, "mtls"), 2);
    const config = await redisCli(server, ["CONFIG", "GET", "*port"], withCert());
    assert.match(config.stdout, /(^|\n)port\n0\n/);
    assert.match((await redisCli(server, ["CONFIG", "GET", "tls-auth-clients"], withCert())).stdout,
                 /tls-auth-clients\nyes\n/);
  });

  it("refuses clients without a certificate or with one from another CA", async () => {
    const none = await redisCli(server, ["INCR", "mtls"]);
    assert.notEqual(none.code, 0, `redis-cli without a certificate: ${none.stdout}`);
    const stranger = await redisCli(server, ["INCR", "mtls"], { cert: pki.strangerCert, key: pki.strangerKey });
    assert.notEqual(stranger.code, 0, `redis-cli with another CA's certificate: ${stranger.stdout}`);
    await assert.rejects(tlsIncr(server, { ca: pki.pem(pki.ca) }, "mtls"));
    await assert.rejects(tlsIncr(server, { ca: pki.pem(pki.ca), cert: pki.pem(pki.strangerCert),
                                           key: pki.pem(pki.strangerKey) }, "mtls"));
    // None of them counted.
    assert.equal((await redisCli(server, ["GET", "mtls"], withCert())).stdout, "2\n");
  });
});

describe("tls-auth-clients optional", () => {
  let server;
  before(async () => {
    server = await startServer({
      tls: { ...serverFiles(), "tls-ca-cert-file": pki.ca, "tls-auth-clients": "optional" },
    });
  });
  after(async () => server?.stop());

  it("serves clients with or without a certificate, but refuses an untrusted one", async () => {
    assert.equal((await redisCli(server, ["INCR", "opt"])).stdout, "1\n");
    assert.equal((await redisCli(server, ["INCR", "opt"], { cert: pki.clientCert, key: pki.clientKey })).stdout,
                 "2\n");
    const stranger = await redisCli(server, ["INCR", "opt"], { cert: pki.strangerCert, key: pki.strangerKey });
    assert.notEqual(stranger.code, 0, `redis-cli with another CA's certificate: ${stranger.stdout}`);
    assert.equal(await tlsIncr(server, { ca: pki.pem(pki.ca) }, "opt"), 3);
  });
});

describe("start-up with bad TLS settings", () => {
  // Runs tally-server expecting it to refuse to start; resolves its output.
  async function refusedStart(args) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tally-tls-start-"));
    try {
      const proc = spawn(serverBinary(), ["--bind", HOST, "--port", "0", "--dir", path.join(dir, "data"),
                                          ...args]);
      let output = "";
      proc.stdout.on("data", (d) => (output += d));
      proc.stderr.on("data", (d) => (output += d));
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
      const code = await new Promise((resolve) => proc.on("close", (c) => resolve(c)));
      clearTimeout(timer);
      assert.equal(code, 1, `tally-server should have refused to start:\n${output}`);
      return output;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("names the missing, unreadable or mismatched file", async () => {
    const withTls = (...args) => refusedStart(["--tls-port", "1", ...args]);
    const { serverCert, serverKey, clientKey } = pki;
    const missing = path.join(pki.dir, "missing.crt");
    assert.match(await withTls("--tls-cert-file", missing, "--tls-key-file", serverKey, "--tls-auth-clients", "no"),
                 /cannot read tls-cert-file '.*missing\.crt': No such file or directory/);
    assert.match(await withTls("--tls-cert-file", serverKey, "--tls-key-file", serverKey, "--tls-auth-clients", "no"),
                 /cannot load tls-cert-file '.*server\.key': no start line/);
    assert.match(await withTls("--tls-cert-file", serverCert, "--tls-key-file", clientKey, "--tls-auth-clients", "no"),
                 /tls-key-file '.*client\.key' is not the key of tls-cert-file '.*server\.crt'/);
    assert.match(await withTls("--tls-cert-file", serverCert, "--tls-key-file", serverKey),
                 /tls-ca-cert-file must be set to verify client certificates \(tls-auth-clients yes\)/);
    assert.match(await withTls("--tls-auth-clients", "maybe"),
                 /invalid value 'maybe' for setting 'tls-auth-clients'/);
    assert.match(await refusedStart(["--tls-cert-file", serverCert, "--tls-key-file", serverKey]),
                 /port and tls-port are both 0/);
  });
});

// Started first and checked last, so the wait for the silent client's
// handshake timeout overlaps the other suites.
describe("TLS beside plain text, tls-auth-clients no", () => {
  it("serves redis-cli --tls, and plain-text clients see the same counters", async () => {
    assert.deepEqual(await redisCli(sideBySide, ["INCRBY", "tls:c", "5"]), { code: 0, stdout: "5\n", stderr: "" });
    assert.equal((await redisCli(sideBySide, ["INCR", "tls:c"])).stdout, "6\n");
    const plain = new Redis(sideBySide.url);
    try {
      assert.equal(await plain.incr("tls:c"), 7);
    } finally {
      plain.disconnect();
    }
    assert.equal((await redisCli(sideBySide, ["GET", "tls:c"])).stdout, "7\n");
    const config = await redisCli(sideBySide, ["CONFIG", "GET", "tls-*"]);
    assert.match(config.stdout, new RegExp(`tls-port\\n${sideBySide.tlsPort}\\n`));
    assert.match(config.stdout, /tls-auth-clients\nno\n/);
  });

  for (const protocol of [2, 3]) {
    it(`serves ioredis rediss:// over RESP${protocol}: counters, a pipeline, a 1 MB value`, async () => {
      const client = new Redis(sideBySide.tlsUrl, { tls: { ca: pki.pem(pki.ca) }, protocol });
      try {
        const key = `tls:p${protocol}`;
        assert.equal(await client.incr(key), 1);
        const pipeline = client.pipeline();
        for (let i = 0; i < 500; i++) pipeline.incr(key);
        const results = await pipeline.exec();
        assert.deepEqual(results.at(-1), [null, 501]);
        // Larger than one TLS record (16 KB) each way, and than a read chunk.
        const big = "x".repeat(1024 * 1024);
        assert.equal(await client.set(`${key}:big`, big), "OK");
        assert.equal(await client.get(`${key}:big`), big);
        assert.equal(await client.get(key), "501");
      } finally {
        client.disconnect();
      }
    });
  }

  it("is refused by clients that do not trust the server's CA", async () => {
    const cli = await redisCli(sideBySide, ["PING"], { ca: pki.otherCa });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /certificate verify failed/);
    await assert.rejects(tlsIncr(sideBySide, { ca: pki.pem(pki.otherCa) }, "tls:refused"),
                         { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    assert.equal(await tlsIncr(sideBySide, { ca: pki.pem(pki.ca) }, "tls:accepted"), 1);
  });

  it("closes a plain-text client on the TLS port and keeps serving", async () => {
    for (let i = 0; i < 20; i++) {
      const socket = net.connect({ host: HOST, port: sideBySide.tlsPort });
      const done = closed(socket, Date.now());
      const received = [];
      socket.on("data", (chunk) => received.push(chunk));
      socket.write("*1\r\n$4\r\nPING\r\n");
      await done;
      assert.ok(!Buffer.concat(received).toString().includes("PONG"), "plain text got an answer");
    }
    assert.equal((await redisCli(sideBySide, ["PING"])).stdout, "PONG\n");
    const plain = new Redis(sideBySide.url);
    try {
      assert.equal(await plain.ping(), "PONG");
    } finally {
      plain.disconnect();
    }
  });

  it("drops a client that never finishes its handshake, after the others were served", async () => {
    const elapsed = await silentClosed;
    console.log(`# silent TLS client closed after ${elapsed} ms (handshake timeout 10 s)`);
    assert.equal((await redisCli(sideBySide, ["PING"])).stdout, "PONG\n");
  });
});
