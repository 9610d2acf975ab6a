// A throwaway public-key infrastructure for the TLS tests, made with the
// openssl command-line tool in a fresh temporary directory: a test CA with a
// server certificate for 127.0.0.1/localhost and a client certificate, and a
// second, untrusted CA with its own client certificate. EC P-256 keys keep it
// fast (well under a second). Used by tls.test.mjs here and by the REST
// suite's https.test.mjs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

function openssl(args, cwd) {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 30000 });
  } catch (err) {
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir, name) {
  openssl(["req", "-x509", ...KEY_ARGS, "-keyout", `${name}.key`, "-out", `${name}.crt`,
           "-days", "2", "-subj", `/CN=Tally test ${name}`], dir);
}

// A certificate for `name`, signed by the CA `ca`, with the extensions given.
function makeCert(dir, ca, name, extensions, serial) {
  writeFileSync(path.join(dir, `${name}.ext`), extensions.join("\n") + "\n");
  openssl(["req", "-new", ...KEY_ARGS, "-keyout", `${name}.key`, "-out", `${name}.csr`,
           "-subj", `/CN=${name}`], dir);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`,
           "-set_serial", String(serial), "-days", "2", "-extfile", `${name}.ext`,
           "-out", `${name}.crt`], dir);
}

// Returns the paths (and, for convenience, the PEM text) of every file, and
// remove() to delete them.
export function makeTestPki() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tally-pki-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeCert(dir, "ca", "server", [
    "basicConstraints=CA:FALSE",
    "keyUsage=digitalSignature",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ], 1);
  const client = ["basicConstraints=CA:FALSE", "keyUsage=digitalSignature", "extendedKeyUsage=clientAuth"];
  makeCert(dir, "ca", "client", client, 2);
  makeCert(dir, "other-ca", "stranger", client, 3);
  const file = (name) => path.join(dir, name);
  const pki = {
    dir,
    ca: file("ca.crt"),
    otherCa: file("other-ca.crt"),
    serverCert: file("server.crt"),
    serverKey: file("server.key"),
    clientCert: file("client.crt"),
    clientKey: file("client.key"),
    strangerCert: file("stranger.crt"),
    strangerKey: file("stranger.key"),
    pem: (p) => readFileSync(p, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return pki;
}
