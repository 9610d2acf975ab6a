// Starts a real tally-server for one test: a free 127.0.0.1 port, a fresh
// temporary data directory, stopped (SIGTERM, then SIGKILL) and removed
// afterwards. The binary comes from TALLY_SERVER (default build/tally-server).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync, existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..", "..");
export const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;

export function serverBinary() {
  const binary = process.env.TALLY_SERVER || path.join(repoRoot, "build", "tally-server");
  if (!existsSync(binary)) {
    throw new Error(`tally-server not found at ${binary}: build it or set TALLY_SERVER`);
  }
  return binary;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// One PING (or AUTH-less probe) on a fresh socket: resolves true once the
// server answers anything, false on connection errors.
function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.on("data", () => done(true));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TallyServer {
  // `args`: more settings, e.g. ["--user", "alice:pw"].
  constructor({ password, args = [] } = {}) {
    this.password = password;
    this.extraArgs = args;
  }

  get url() {
    const auth = this.password ? `default:${encodeURIComponent(this.password)}@` : "";
    return `redis://${auth}${HOST}:${this.port}`;
  }

  async start() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "tally-clients-"));
    this.logPath = path.join(this.dir, "server.log");
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      // The default durability (always, group commit): clients must work
      // unchanged with the promise users actually get.
      const args = ["--port", String(this.port), "--bind", HOST, "--dir", path.join(this.dir, "data")];
      if (this.password) args.push("--requirepass", this.password);
      args.push(...this.extraArgs);
      const log = openSync(this.logPath, "a");
      this.proc = spawn(serverBinary(), args, { stdio: ["ignore", log, log] });
      closeSync(log);
      this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal })));
      const deadline = Date.now() + START_TIMEOUT_MS;
      let running = true;
      this.proc.on("exit", () => (running = false));
      while (running && Date.now() < deadline) {
        if (await answers(this.port)) return this;
        await sleep(25);
      }
      if (running) {
        this.proc.kill("SIGKILL");
        throw new Error(`tally-server did not answer within ${START_TIMEOUT_MS} ms\n${this.log()}`);
      }
      // Exited: another process may have taken the port between probe and bind.
      if (!/in use/i.test(this.log())) throw new Error(`tally-server exited at start-up\n${this.log()}`);
    }
    throw new Error(`tally-server could not get a free port\n${this.log()}`);
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
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
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startServer(options) {
  return new TallyServer(options).start();
}
