// @upstash/redis over HTTPS, run by https.test.mjs in a child process: Node
// reads the extra CAs it trusts (NODE_EXTRA_CA_CERTS) only at start-up, as
// an app would be configured. Counts on KEY at TALLY_URL with TALLY_TOKEN and
// prints the results as one JSON line, or the error and exits 1. No retries,
// so a refused connection fails at once.
import { Redis } from "@upstash/redis";

const redis = new Redis({ url: process.env.TALLY_URL, token: process.env.TALLY_TOKEN, retry: false });
const key = process.env.KEY;
try {
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await redis.incr(key));
  results.push(await redis.incrby(key, 10));
  const pipeline = redis.pipeline();
  pipeline.incr(key);
  pipeline.get(key);
  results.push(await pipeline.exec());
  results.push(await redis.get(key));
  console.log(JSON.stringify(results));
} catch (err) {
  console.error(`${err.name}: ${err.message} (${err.cause?.code ?? err.cause?.message ?? "no cause"})`);
  process.exit(1);
}
