// Node BullMQ side of bench/jobs_bench.py.
//   node bench.mjs enqueue <redis-url> <prefix> <queue> <n> <parallel>  -> prints JSON rates
//   node bench.mjs work <redis-url> <prefix> <queue> <concurrency>      -> runs until SIGTERM
import { Queue, Worker } from "bullmq";

const [mode, url, prefix, name, a, b] = process.argv.slice(2);
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0) };

async function enqueue(n, parallel) {
  const queue = new Queue(name, { connection, prefix });
  let t = performance.now();
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); j++) batch.push(queue.add("noop", { n: j }));
    await Promise.all(batch);
  }
  const add = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push({ name: "noop", data: { n: j } });
    await queue.addBulk(jobs);
  }
  const bulk = n / ((performance.now() - t) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(JSON.stringify({ add, addBulk: bulk }));
}

function work(concurrency) {
  const worker = new Worker(name, async (job) => ({ n: job.data.n }), { connection, prefix, concurrency });
  const stop = async () => { await worker.close(); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (mode === "enqueue") await enqueue(Number(a), Number(b));
else if (mode === "work") work(Number(a));
else { console.error("usage: bench.mjs enqueue|work ..."); process.exit(2); }
