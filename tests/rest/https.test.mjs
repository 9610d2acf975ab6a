// The REST API over HTTPS (http-tls yes, tls-cert-file, tls-key-file) with a
// CA made for the run by the openssl CLI (../clients/node/test_pki.mjs):
// @upstash/redis trusting it through NODE_EXTRA_CA_CERTS, curl --cacert, and
// what must fail: clients that trust another CA, plain HTTP on the port.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { makeTestPki } from "../clients/node/test_pki.mjs";
import { respCommand, startTally } from "./tally.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

// Runs `command`; resolves { code, stdout, stderr } (never rejects).
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("REST API over HTTPS", () => {
  let pki;
  let tally;
  before(async () => {
    pki = makeTestPki();
    tally = await startTally({ tls: { cert: pki.serverCert, key: pki.serverKey } });
  });
  after(async () => {
    await tally?.stop();
    pki?.remove();
  });

  const upstash = (key, ca) =>
    run(process.execPath, [path.join(here, "https_client.mjs")],
        { TALLY_URL: tally.url, TALLY_TOKEN: tally.token, KEY: key, NODE_EXTRA_CA_CERTS: ca });
  const curl = (args, ca = pki.ca) =>
    run("curl", ["-sS", "--max-time", "20", "--cacert", ca, "-H", `Authorization: Bearer ${tally.token}`, ...args]);

  test("@upstash/redis counts over https when it trusts the CA", async () => {
    assert.match(tally.url, /^https:/);
    const result = await upstash("hits", pki.ca);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [1, 2, 3, 13, [14, 14], 14]);
    // The same counter, read over RESP.
    assert.deepEqual(await respCommand(tally.port, ["GET", "hits"]), Buffer.from("14"));
  });

  test("curl --cacert runs commands in the body and in the path", async () => {
    assert.deepEqual(await curl(["-d", '["INCRBY","curl",5]', tally.url]),
                     { code: 0, stdout: '{"result":5}', stderr: "" });
    assert.deepEqual(await curl([`${tally.url}/incr/curl`]), { code: 0, stdout: '{"result":6}', stderr: "" });
    assert.deepEqual(await curl([`${tally.url}/get/curl`]), { code: 0, stdout: '{"result":"6"}', stderr: "" });
    const unauthorized = await run("curl", ["-sS", "--cacert", pki.ca, "-o", "/dev/null", "-w", "%{http_code}",
                                            `${tally.url}/get/curl`]);
    assert.equal(unauthorized.stdout, "401");
  });

  test("clients that trust another CA are refused, and nothing is counted", async () => {
    const result = await upstash("refused", pki.otherCa);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const refused = await curl([`${tally.url}/incr/refused`], pki.otherCa);
    assert.equal(refused.code, 60, refused.stderr);  // curl: peer certificate cannot be authenticated
    assert.equal(await respCommand(tally.port, ["GET", "refused"]), null);
  });

  test("plain HTTP on the HTTPS port is closed, and HTTPS goes on", async () => {
    for (let i = 0; i < 10; i++) {
      const plain = await run("curl", ["-sS", "--max-time", "20", `http://127.0.0.1:${tally.httpPort}/get/curl`]);
      assert.notEqual(plain.code, 0, plain.stdout);
      assert.doesNotMatch(plain.stdout, /result/);
    }
    assert.deepEqual(await curl([`${tally.url}/get/curl`]), { code: 0, stdout: '{"result":"6"}', stderr: "" });
  });
});
