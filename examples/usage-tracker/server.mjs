// A minimal usage tracker, written exactly as it would be for Vercel KV:
//
//   POST /api/track-usage {"tool":"webo-news-overlay"}  counts one use (INCR usage:<tool>)
//   GET  /statistics                                   every usage:* counter, most used first
//
// @vercel/kv reads KV_REST_API_URL and KV_REST_API_TOKEN from the
// environment, so pointing the app at Tally instead of Vercel KV changes no
// code. PORT (default 3000) and HOST (default 127.0.0.1) say where it listens.
import http from "node:http";
import { kv } from "@vercel/kv";

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || "127.0.0.1";
const PREFIX = "usage:";
// Tool names become part of a key and of the page: keep them plain.
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_BODY_BYTES = 16 * 1024;

function send(res, status, contentType, body) {
  res.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

const sendJson = (res, status, value) => send(res, status, "application/json", JSON.stringify(value));

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) {
        reject(new Error("request body too large"));
        req.destroy();
      }
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

async function trackUsage(req, res) {
  let tool;
  try {
    tool = JSON.parse(await readBody(req)).tool;
  } catch {
    return sendJson(res, 400, { error: 'send JSON like {"tool":"webo-news-overlay"}' });
  }
  if (typeof tool !== "string" || !TOOL_NAME.test(tool)) {
    return sendJson(res, 400, { error: "tool must be 1-100 letters, digits, '.', '_' or '-'" });
  }
  const count = await kv.incr(PREFIX + tool);
  sendJson(res, 200, { tool, count });
}

// Every usage:* counter, most used first (ties by name).
async function usageCounts() {
  const keys = [];
  for await (const key of kv.scanIterator({ match: `${PREFIX}*`, count: 1000 })) keys.push(key);
  const counts = [];
  // MGET in slices, so thousands of tools stay a handful of small requests.
  for (let i = 0; i < keys.length; i += 500) {
    const slice = keys.slice(i, i + 500);
    const values = await kv.mget(...slice);
    slice.forEach((key, j) => counts.push({ tool: key.slice(PREFIX.length), count: Number(values[j]) || 0 }));
  }
  return counts.sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));
}

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function statisticsPage(counts) {
  const max = Math.max(1, ...counts.map((c) => c.count));
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const rows = counts
    .map(({ tool, count }) => `
      <tr>
        <th scope="row">${escapeHtml(tool)}</th>
        <td class="bar"><span style="width: ${((100 * count) / max).toFixed(1)}%"></span></td>
        <td class="count">${count.toLocaleString("en-US")}</td>
      </tr>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Usage statistics</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; background: #f7f9fb; }
    h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
    p { margin: 0 0 1.25rem; color: #52606d; }
    table { border-collapse: collapse; width: 100%; max-width: 46rem; }
    th, td { padding: .4rem .5rem; text-align: left; }
    th { font-weight: 600; white-space: nowrap; }
    td.bar { width: 100%; }
    td.bar span { display: block; height: 1.1rem; background: #3e7bfa; border-radius: 3px; min-width: 2px; }
    td.count { text-align: right; font-variant-numeric: tabular-nums; }
    tr:nth-child(even) { background: #eef2f7; }
  </style>
</head>
<body>
  <h1>Usage statistics</h1>
  <p>${counts.length} tools, ${total.toLocaleString("en-US")} uses in total.</p>
  <table>
    <thead><tr><th scope="col">Tool</th><th scope="col"></th><th scope="col" class="count">Uses</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="3">No usage recorded yet.</td></tr>'}
    </tbody>
  </table>
</body>
</html>
`;
}

const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, "http://localhost");
  try {
    if (req.method === "POST" && pathname === "/api/track-usage") return await trackUsage(req, res);
    if (req.method === "GET" && pathname === "/statistics") {
      return send(res, 200, "text/html; charset=utf-8", statisticsPage(await usageCounts()));
    }
    sendJson(res, 404, { error: "not found: POST /api/track-usage or GET /statistics" });
  } catch (error) {
    console.error(`${req.method} ${pathname}: ${error.message}`);
    if (!res.headersSent) sendJson(res, 502, { error: `the KV store failed: ${error.message}` });
  }
});

server.listen(PORT, HOST, () => console.log(`usage tracker on http://${HOST}:${PORT}`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
