// Loopback port helpers shared by the Node test suites (tests/clients/node and
// tests/rest have separate package.json files; this module needs only Node's
// own modules, so both import it by relative path).
import net from "node:net";

export const HOST = "127.0.0.1";

// A port that was free a moment ago (the kernel's pick for port 0).
export function freePort() {
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

// Resolves true once something accepts TCP connections on the port; with
// `ping`, only once it also answers a RESP PING with anything. False on
// connection errors or after a second of silence.
export function accepts(port, { ping = false } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => (ping ? socket.write("*1\r\n$4\r\nPING\r\n") : done(true)));
    socket.on("data", () => done(true));
  });
}
