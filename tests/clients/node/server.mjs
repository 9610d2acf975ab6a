// Starts a real tally-server for one test: a free 127.0.0.1 port (and one for
// TLS when asked), a fresh temporary data directory, stopped (SIGTERM, then SIGKILL) and removed
// afterwards. The binary comes from TALLY_SERVER (default build/tally-server).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { HOST, accepts, freePort } from "../../common/net_probe.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..", "..");
export { HOST };
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;

export function serverBinary() {
  const binary = process.env.TALLY_SERVER || path.join(repoRoot, "build", "tally-server");
  if (!existsSync(binary)) {
    throw new Error(`tally-server not found at ${binary}: build it or set TALLY_SERVER`);
  }
  return binary;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TallyServer {
  // password: requirepass. tls: settings that go with tls-port, which is then
  // opened on a free port too, e.g. { "tls-cert-file": path, ... }.
  // plain: false for a TLS-only server (port 0). args: more settings, e.g.
  // ["--user", "alice:pw"].
  constructor({ password, tls, plain = true, args = [] } = {}) {
    this.password = password;
    this.tls = tls;
    this.plain = plain;
    this.extraArgs = args;
  }

  get url() {
    const auth = this.password ? `default:${encodeURIComponent(this.password)}@` : "";
    return `redis://${auth}${HOST}:${this.port}`;
  }

  get tlsUrl() {
    const auth = this.password ? `default:${encodeURIComponent(this.password)}@` : "";
    return `rediss://${auth}${HOST}:${this.tlsPort}`;
  }

  async ready() {
    if (this.plain && !(await accepts(this.port, { ping: true }))) return false;
    return !this.tls || accepts(this.tlsPort);
  }

  async start() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "tally-clients-"));
    this.logPath = path.join(this.dir, "server.log");
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = this.plain ? await freePort() : 0;
      // The default durability (always, group commit): clients must work
      // unchanged with the promise users actually get.
      const args = ["--port", String(this.port), "--bind", HOST, "--dir", path.join(this.dir, "data")];
      if (this.password) args.push("--requirepass", this.password);
      if (this.tls) {
        this.tlsPort = await freePort();
        args.push("--tls-port", String(this.tlsPort));
        for (const [name, value] of Object.entries(this.tls)) args.push(`--${name}`, value);
      }
      args.push(...this.extraArgs);
      const log = openSync(this.logPath, "a");
      this.proc = spawn(serverBinary(), args, { stdio: ["ignore", log, log] });
      closeSync(log);
      this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal })));
      const deadline = Date.now() + START_TIMEOUT_MS;
      let running = true;
      this.proc.on("exit", () => (running = false));
      while (running && Date.now() < deadline) {
        if (await this.ready()) return this;
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
