// Runs the receiver Worker in workerd through Miniflare 4, for the integration tests and the
// latency benchmark. Started by tests/support/harness.rs (`Workerd::start`):
//
//   node tests/harness/workerd.mjs '<options JSON>'
//
// options:
//   build        directory holding index.js and index_bg.wasm (functions/receiver/build[-test])
//   vars         the Worker's vars and secrets (strings, or objects such as HOOKLINE_CONFIG)
//   consumer     true: this Worker consumes hookline-inbound (as in wrangler.toml)
//   maxRetries   the consumer's max_retries (default 10)
//   noQueue      true: leave the INBOUND_QUEUE binding out, so every send fails (the 503 path)
//
// It prints one line, `READY {"url":...,"control":...}`, once both servers listen, and shuts
// workerd down when its stdin closes (a killed node would leave workerd orphaned).
//
// The control server (loopback only) lets tests look where the Worker cannot be asked:
//   GET /r2/<key>  the object in the BODIES bucket (404 if none)
//   GET /dlq       the messages that reached hookline-inbound-dlq, as a JSON array of
//                  {id, attempts, body}, collected by a second Worker consuming the DLQ
import http from "node:http";
import path from "node:path";
import { Miniflare } from "miniflare";

const options = JSON.parse(process.argv[2] ?? "{}");
const build = path.resolve(options.build);

const receiver = {
  name: "receiver",
  modules: true,
  scriptPath: path.join(build, "index.js"),
  modulesRoot: build,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2026-07-01",
  bindings: options.vars ?? {},
  queueProducers: options.noQueue ? {} : { INBOUND_QUEUE: { queueName: "hookline-inbound" } },
  r2Buckets: ["BODIES"],
};
if (options.consumer) {
  receiver.queueConsumers = {
    "hookline-inbound": {
      maxBatchSize: 10,
      // 0: a batch is delivered as soon as it is ready (1 s otherwise).
      maxBatchTimeout: 0,
      maxRetries: options.maxRetries ?? 10,
      deadLetterQueue: "hookline-inbound-dlq",
    },
  };
}

// Collects dead-lettered messages so tests can see that nothing vanished.
const dlqReader = {
  name: "dlq-reader",
  modules: true,
  compatibilityDate: "2026-07-01",
  script: `export default {
    async queue(batch, env) {
      for (const m of batch.messages) {
        await env.DLQ.put(m.id, JSON.stringify({ id: m.id, attempts: m.attempts, body: m.body }));
        m.ack();
      }
    },
  };`,
  kvNamespaces: ["DLQ"],
  queueConsumers: { "hookline-inbound-dlq": { maxBatchTimeout: 0 } },
};

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  // Otherwise Miniflare fetches request.cf data from the internet.
  cf: false,
  workers: [receiver, dlqReader],
});
const url = await mf.ready;

const control = http.createServer(async (req, res) => {
  try {
    if (req.method === "GET" && req.url.startsWith("/r2/")) {
      const key = decodeURIComponent(req.url.slice("/r2/".length));
      const bucket = await mf.getR2Bucket("BODIES", "receiver");
      const object = await bucket.get(key);
      if (object === null) {
        res.writeHead(404).end();
        return;
      }
      const bytes = Buffer.from(await object.arrayBuffer());
      res.writeHead(200, {
        "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
        "content-length": bytes.length,
        "x-custom-metadata": JSON.stringify(object.customMetadata ?? {}),
      });
      res.end(bytes);
    } else if (req.method === "GET" && req.url === "/dlq") {
      const kv = await mf.getKVNamespace("DLQ", "dlq-reader");
      const { keys } = await kv.list();
      const items = [];
      for (const k of keys) items.push(JSON.parse(await kv.get(k.name)));
      const body = Buffer.from(JSON.stringify(items));
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  } catch (e) {
    const body = Buffer.from(String(e?.stack ?? e));
    res.writeHead(500, { "content-length": body.length }).end(body);
  }
});
await new Promise((resolve) => control.listen(0, "127.0.0.1", resolve));
const controlUrl = `http://127.0.0.1:${control.address().port}`;

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  control.close();
  await mf.dispose();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);

process.stdout.write(`READY ${JSON.stringify({ url: url.origin, control: controlUrl })}\n`);
