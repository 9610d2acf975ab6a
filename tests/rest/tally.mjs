// Starts a real tally-server with its REST API for one test: free 127.0.0.1
// ports (RESP and HTTP), a fresh temporary data directory, stopped with
// SIGTERM (SIGKILL after a bounded wait) and removed afterwards. restart()
// keeps the data directory, to check what survives. The binary comes from
// TALLY_SERVER (default build/tally-server).
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { HOST, accepts, freePort } from "../common/net_probe.mjs";

export { freePort };

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..");
export { HOST };
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function serverBinary() {
  const binary = process.env.TALLY_SERVER || path.join(repoRoot, "build", "tally-server");
  if (!existsSync(binary)) {
    throw new Error(`tally-server not found at ${binary}: build it or set TALLY_SERVER`);
  }
  return binary;
}

export class Tally {
  // token: http-token (null: none); readonlyToken: http-readonly-token;
  // args: extra command-line settings, e.g. ["--durability", "everysec"];
  // tls: { cert, key } files to serve the REST API over HTTPS (http-tls).
  constructor({ token = "tally-test-token", readonlyToken, requirepass, args = [], tls } = {}) {
    this.token = token;
    this.tls = tls;
    this.readonlyToken = readonlyToken;
    this.requirepass = requirepass;
    this.extraArgs = args;
    this.dir = mkdtempSync(path.join(os.tmpdir(), "tally-rest-"));
    this.logPath = path.join(this.dir, "server.log");
  }

  get url() {
    return `${this.tls ? "https" : "http"}://${HOST}:${this.httpPort}`;
  }

  args() {
    const args = ["--bind", HOST, "--port", String(this.port), "--http-port", String(this.httpPort),
                  "--dir", path.join(this.dir, "data"), ...this.extraArgs];
    if (this.token) args.push("--http-token", this.token);
    if (this.readonlyToken) args.push("--http-readonly-token", this.readonlyToken);
    if (this.requirepass) args.push("--requirepass", this.requirepass);
    if (this.tls) args.push("--http-tls", "yes", "--tls-cert-file", this.tls.cert, "--tls-key-file", this.tls.key);
    return args;
  }

  async start() {
    for (let attempt = 0; attempt < 3; attempt++) {
      // A restart keeps its ports, so clients configured with the URL carry on.
      if (!this.httpPort || attempt > 0) {
        this.port = await freePort();
        this.httpPort = await freePort();
      }
      const log = openSync(this.logPath, "a");
      this.proc = spawn(serverBinary(), this.args(), { stdio: ["ignore", log, log] });
      closeSync(log);
      this.exited = new Promise((resolve) =>
        this.proc.on("exit", (code, signal) => resolve({ code, signal })));
      let running = true;
      this.proc.on("exit", () => (running = false));
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (running && Date.now() < deadline) {
        if ((await accepts(this.httpPort)) && (await accepts(this.port))) return this;
        await sleep(25);
      }
      if (running) {
        this.proc.kill("SIGKILL");
        throw new Error(`tally-server did not listen within ${START_TIMEOUT_MS} ms\n${this.log()}`);
      }
      // Another process may have taken a port between probe and bind.
      if (!/in use/i.test(this.log())) throw new Error(`tally-server exited at start-up\n${this.log()}`);
    }
    throw new Error(`tally-server could not get free ports\n${this.log()}`);
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  // SIGTERM, then waits for a clean exit (SIGKILL and an error after a bound).
  async stopProcess() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS)));
    const stopped = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (stopped === null) {
      this.proc.kill("SIGKILL");
      await this.exited;
      throw new Error(`tally-server did not stop on SIGTERM within ${STOP_TIMEOUT_MS} ms\n${this.log()}`);
    }
    if (stopped.code !== 0) throw new Error(`tally-server exited with ${stopped.code}\n${this.log()}`);
  }

  async restart() {
    await this.stopProcess();
    await this.start();
  }

  async stop() {
    try {
      await this.stopProcess();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  // One raw REST request; resolves { status, headers, body (parsed JSON), text }.
  async fetch(pathAndQuery, { method = "POST", body, token = this.token, headers = {} } = {}) {
    const allHeaders = { ...headers };
    if (token !== undefined && token !== null) allHeaders.Authorization = `Bearer ${token}`;
    const response = await fetch(this.url + pathAndQuery, {
      method,
      headers: allHeaders,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }
}

export async function startTally(options) {
  return new Tally(options).start();
}

// A minimal RESP client for cross-checks: what the REST API wrote is what
// RESP clients read. Sends one command, resolves its reply (bulk strings as
// Buffers, integers as numbers, errors as Error objects, null as null).
export function respCommand(port, args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let data = Buffer.alloc(0);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error("RESP command timed out"));
    });
    socket.on("error", reject);
    socket.on("connect", () => {
      const parts = [Buffer.from(`*${args.length}\r\n`)];
      for (const arg of args) {
        const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
        parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
      }
      socket.write(Buffer.concat(parts));
    });
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseResp(data, 0);
      if (parsed) {
        socket.destroy();
        resolve(parsed.value);
      }
    });
  });
}

function parseResp(buffer, offset) {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.subarray(offset + 1, lineEnd).toString();
  const next = lineEnd + 2;
  if (type === "+") return { value: line, end: next };
  if (type === "-") return { value: new Error(line), end: next };
  if (type === ":") return { value: Number(line), end: next };
  if (type === "$") {
    const length = Number(line);
    if (length < 0) return { value: null, end: next };
    if (buffer.length < next + length + 2) return null;
    return { value: buffer.subarray(next, next + length), end: next + length + 2 };
  }
  if (type === "*") {
    const count = Number(line);
    if (count < 0) return { value: null, end: next };
    const values = [];
    let at = next;
    for (let i = 0; i < count; i++) {
      const element = parseResp(buffer, at);
      if (!element) return null;
      values.push(element.value);
      at = element.end;
    }
    return { value: values, end: at };
  }
  throw new Error(`unexpected RESP type ${type}`);
}
