// Runs the receiver Worker in workerd through Miniflare 4, for the integration tests and the
// latency benchmark. Started by tests/support/harness/workerd.rs (`Workerd::start`):
//
//   node tests/harness/workerd.mjs '<options JSON>'
//
// options:
//   build        directory holding index.js and index_bg.wasm (functions/receiver/build[-test])
//   vars         the Worker's vars and secrets (strings, or objects such as HOOKLINE_CONFIG)
//   consumer     true: this Worker consumes hookline-inbound (as in wrangler.toml)
//   maxRetries   the consumer's max_retries (default 10)
//   maxBatchTimeout  the consumer's max_batch_timeout in seconds (default 0: deliver at once;
//                wrangler.toml's 5 makes full batches, as tests/cost.rs counts them)
//   noQueue      true: leave the INBOUND_QUEUE binding out, so every send fails (the 503 path)
//   queueFaults  a fault plan for INBOUND_QUEUE (fault injection, functions/sender/tests/faults.rs): the binding
//                becomes a wrapper around the real queue that, for the k-th send (k from 1),
//                waits `slowMs` when k % slowEvery == 0, then throws before sending when
//                k % failBeforeEvery == 0, or sends and then throws (the message is on the queue,
//                the Worker sees an error) when k % failAfterEvery == 0. Any field may be left out.
//
// It prints one line, `READY {"url":...,"control":...}`, once both servers listen, and shuts
// workerd down when its stdin closes (a killed node would leave workerd orphaned).
//
// The control server (loopback only) lets tests look where the Worker cannot be asked:
//   GET /r2/<key>  the object in the BODIES bucket (404 if none)
//   GET /dlq       the messages that reached hookline-inbound-dlq, as a JSON array of
//                  {id, attempts, body}, collected by a second Worker consuming the DLQ
//   GET /faults    {plan, sends, failedBefore, failedAfter, slowed} for queueFaults
//   POST /faults   replaces the plan with the JSON body ({} for no more faults)
import http from "node:http";
import path from "node:path";
import { Miniflare } from "miniflare";
import { compatibilityDate, receiverModules } from "./receiver-worker.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const build = path.resolve(options.build);

// Fault injection: the plan and what it did, decided here (in Node) for every send the wrapper
// makes, so tests can read the counts and change the plan while the Worker runs.
const faults = { plan: options.queueFaults ?? {}, sends: 0, failedBefore: 0, failedAfter: 0, slowed: 0 };
function nextFault() {
  const k = ++faults.sends;
  const every = (n) => Number.isInteger(n) && n > 0 && k % n === 0;
  const p = faults.plan;
  const d = { delayMs: 0, failBefore: false, failAfter: false };
  if (every(p.slowEvery)) {
    d.delayMs = p.slowMs ?? 200;
    faults.slowed++;
  }
  if (every(p.failBeforeEvery)) {
    d.failBefore = true;
    faults.failedBefore++;
  } else if (every(p.failAfterEvery)) {
    d.failAfter = true;
    faults.failedAfter++;
  }
  return d;
}

// The wrapper: its class is named WorkerQueue because workers-rs checks the binding's constructor
// name before using it as a queue.
const faultyQueue = {
  name: "faulty-queue",
  modules: true,
  script: `class WorkerQueue {
    constructor(env) { this.env = env; }
    async fault() {
      const d = await (await this.env.FAULTS.fetch("http://faults/next")).json();
      if (d.delayMs > 0) await new Promise((r) => setTimeout(r, d.delayMs));
      if (d.failBefore) throw new Error("injected fault: queue send failed");
      return d;
    }
    async send(body, options) {
      const d = await this.fault();
      await this.env.INNER.send(body, options);
      if (d.failAfter) throw new Error("injected fault: queue send failed after the message was taken");
    }
    async sendBatch(messages, options) {
      const d = await this.fault();
      await this.env.INNER.sendBatch(messages, options);
      if (d.failAfter) throw new Error("injected fault: queue send failed after the messages were taken");
    }
  }
  export default function (env) { return new WorkerQueue(env); }`,
  queueProducers: { INNER: { queueName: "hookline-inbound" } },
  serviceBindings: {
    async FAULTS() {
      return Response.json(nextFault());
    },
  },
};

const receiver = {
  name: "receiver",
  ...receiverModules(build),
  bindings: options.vars ?? {},
  queueProducers:
    options.noQueue || options.queueFaults ? {} : { INBOUND_QUEUE: { queueName: "hookline-inbound" } },
  r2Buckets: ["BODIES"],
};
if (options.queueFaults && !options.noQueue) {
  receiver.wrappedBindings = { INBOUND_QUEUE: { scriptName: "faulty-queue" } };
}
if (options.consumer) {
  receiver.queueConsumers = {
    "hookline-inbound": {
      maxBatchSize: 10,
      // 0: a batch is delivered as soon as it is ready (1 s otherwise).
      maxBatchTimeout: options.maxBatchTimeout ?? 0,
      maxRetries: options.maxRetries ?? 10,
      deadLetterQueue: "hookline-inbound-dlq",
    },
  };
}

// Collects dead-lettered messages so tests can see that nothing vanished.
const dlqReader = {
  name: "dlq-reader",
  modules: true,
  compatibilityDate,
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
  workers: options.queueFaults ? [receiver, dlqReader, faultyQueue] : [receiver, dlqReader],
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
    } else if (req.url === "/faults") {
      if (req.method === "POST") {
        let text = "";
        for await (const chunk of req) text += chunk;
        faults.plan = JSON.parse(text || "{}");
      }
      const body = Buffer.from(JSON.stringify(faults));
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.end(body);
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
