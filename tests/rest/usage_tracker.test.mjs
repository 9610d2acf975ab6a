// End to end: the example app in examples/usage-tracker, unchanged, with
// @vercel/kv pointed at Tally by its two environment variables. Downloads are
// posted, Tally restarts, and the statistics page still shows every count.
// Then headless Chromium renders the page (TALLY_UPDATE_SCREENSHOT=1 copies
// the picture to docs/usage-tracker-statistics.png).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { HOST, freePort, repoRoot, sleep, startTally } from "./tally.mjs";

const appDir = path.join(repoRoot, "examples", "usage-tracker");
const DOWNLOADS = { "webo-news-overlay": 12, "pdf-merger": 7, "color-picker": 3, "qr-maker": 7, "csv-cleaner": 1 };
const SCREENSHOT_TIMEOUT_MS = 60000;

let tally;
let app;
let appUrl;
let appLog = "";

async function startApp() {
  const port = await freePort();
  appUrl = `http://${HOST}:${port}`;
  app = spawn(process.execPath, ["server.mjs"], {
    cwd: appDir,
    env: { ...process.env, KV_REST_API_URL: tally.url, KV_REST_API_TOKEN: tally.token, PORT: String(port), HOST },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout.on("data", (d) => (appLog += d));
  app.stderr.on("data", (d) => (appLog += d));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (/usage tracker on/.test(appLog)) return;
    if (app.exitCode !== null) break;
    await sleep(25);
  }
  throw new Error(`the usage tracker did not start\n${appLog}`);
}

async function track(tool) {
  const response = await fetch(`${appUrl}/api/track-usage`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tool }),
  });
  return { status: response.status, body: await response.json() };
}

async function statistics() {
  const response = await fetch(`${appUrl}/statistics`);
  assert.equal(response.status, 200, appLog);
  return response.text();
}

// [tool, count] pairs in page order.
function rows(html) {
  return [...html.matchAll(/<th scope="row">([^<]*)<\/th>[\s\S]*?<td class="count">([\d,]+)<\/td>/g)]
    .map(([, tool, count]) => [tool, Number(count.replace(/,/g, ""))]);
}

const expectedRows = Object.entries(DOWNLOADS).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

before(async () => {
  if (!existsSync(path.join(appDir, "node_modules", "@vercel", "kv"))) {
    throw new Error(`run npm ci in ${appDir} first (the rest-npm-ci test does)`);
  }
  tally = await startTally();
  await startApp();
});

after(async () => {
  if (app && app.exitCode === null) {
    app.kill("SIGTERM");
    await new Promise((resolve) => {
      const timer = setTimeout(() => (app.kill("SIGKILL"), resolve()), 5000);
      app.on("exit", () => (clearTimeout(timer), resolve()));
    });
  }
  await tally?.stop();
});

test("downloads are counted, concurrently and exactly", async () => {
  const posts = Object.entries(DOWNLOADS).flatMap(([tool, n]) => Array.from({ length: n }, () => track(tool)));
  const results = await Promise.all(posts);
  for (const { status } of results) assert.equal(status, 200, appLog);
  for (const [tool, n] of Object.entries(DOWNLOADS)) {
    const counts = results.filter((r) => r.body.tool === tool).map((r) => r.body.count).sort((a, b) => a - b);
    assert.deepEqual(counts, Array.from({ length: n }, (_, i) => i + 1), tool);
  }
  const bad = await track("no spaces allowed");
  assert.equal(bad.status, 400);
});

test("the statistics page lists every tool, most used first", async () => {
  assert.deepEqual(rows(await statistics()), expectedRows);
});

test("the counts survive a Tally restart", async () => {
  await tally.restart();
  assert.deepEqual(rows(await statistics()), expectedRows);
  // And counting carries on from where it was.
  assert.deepEqual((await track("csv-cleaner")).body, { tool: "csv-cleaner", count: 2 });
});

test("headless Chromium renders the statistics page", async () => {
  const chromium = process.env.CHROMIUM || "chromium";
  const dir = mkdtempSync(path.join(os.tmpdir(), "tally-chromium-"));
  const shot = path.join(dir, "statistics.png");
  try {
    await new Promise((resolve, reject) => {
      execFile(chromium, [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        `--user-data-dir=${path.join(dir, "profile")}`, "--hide-scrollbars", "--window-size=900,330",
        `--screenshot=${shot}`, `${appUrl}/statistics`,
      ], { timeout: SCREENSHOT_TIMEOUT_MS, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${chromium} failed: ${error.message}\n${stderr}`));
        else resolve();
      });
    });
    const png = readFileSync(shot);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), 900);  // IHDR width
    assert.ok(png.length > 10000, `a ${png.length}-byte picture is too small to show the page`);
    if (process.env.TALLY_UPDATE_SCREENSHOT === "1") {
      copyFileSync(shot, path.join(repoRoot, "docs", "usage-tracker-statistics.png"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
