// Runs the receiver Worker and its JavaScript peer (tests/harness/peer/stripe-worker.js, the
// official `stripe` package) side by side in ONE Miniflare 4 / workerd instance, for the load
// benchmark (tests/benches/receiver_load.rs):
//
//   node tests/harness/bench-workerd.mjs '<options JSON>'
//
// options:
//   build    directory holding the receiver's index.js and index_bg.wasm (functions/receiver/build)
//   secret   the Stripe signing secret (whsec_...), given to both Workers
//   out      where to bundle the peer (default target/bench-peer); never in the source tree
//
// Each Worker listens on its own loopback port (a Miniflare direct socket: the request goes
// straight to the Worker, not through Miniflare's entry Worker), has its own queue producer
// and its own R2 bucket for claim checks. Another Worker, `drain`, consumes every queue and
// acks every message, so the queues do not grow during the run, and answers `GET /` with how many
// messages it acked per queue, so the benchmark can wait until a phase's messages have all been
// delivered before it reads the CPU counters. Two floors, for reference: `baseline` only reads
// the body and answers 200 (the runtime's own cost per request); `baseline-queue` also awaits a
// queue send of the body (adding what Miniflare's queue simulation costs per message). A third,
// `webcrypto`, only checks the Stripe HMAC over the body with crypto.subtle (the least any
// Worker verifying the body can do), for the size sweep.
//
// It prints one line, `READY {"hookline":url,"peer":url,"baseline":url,"baselineQueue":url,
// "webcrypto":url,"drain":url,"workerd":[pid,...],"node":pid}`, once everything listens, and shuts workerd down
// when its stdin closes (a killed node would leave workerd orphaned).
//
// With `"runtime": "workerd"` (the soak's default, see `HOOKLINE_SOAK_SECONDS` in
// receiver_load.rs) it runs instead the hookline Worker alone in a workerd of its own, started
// here from a text config, without Miniflare: its INBOUND_QUEUE is a real workerd queue binding
// whose service, `drain`, only counts the messages it is sent (`GET /` on the drain URL answers
// `{"hookline-inbound": n}`, as above). Under Miniflare, workerd's memory grows by ~3 KiB per
// queued message whichever Worker sends it (the `baseline-queue` floor, which only awaits a
// queue send, grows as much as hookline): that is Miniflare's local queue simulation (its broker
// Durable Object and the consumer dispatch), not the Worker, and it would hide the receiver's own
// memory in a soak. Production queues are a service outside the Worker's process, as this counting
// service is. The two floors run there too (`baselineQueue` sends to the same counting service);
// READY names `hookline`, `baseline`, `baselineQueue` and `drain` (no peer).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { compatibilityDate, receiverModules } from "./receiver-worker.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const options = JSON.parse(process.argv[2] ?? "{}");
const build = path.resolve(options.build ?? path.join(root, "functions/receiver/build"));
const secret = options.secret;
if (typeof secret !== "string" || secret === "") throw new Error("options.secret is required");
const out = path.resolve(options.out ?? path.join(root, "target/bench-peer"));

// workerd is a child of this process; Miniflare does not say its pid.
function childrenNamed(name) {
  const pids = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: the fields start after it.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid) continue;
      if (path.basename(fs.readlinkSync(`/proc/${entry}/exe`)) === name) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

// Waits for stdin to close (or SIGTERM), runs `dispose`, exits.
function stopOnStdinEnd(dispose) {
  let stopping = false;
  async function stop() {
    if (stopping) return;
    stopping = true;
    await dispose();
    process.exit(0);
  }
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}

if (options.runtime === "workerd") {
  await startWorkerd();
} else if (options.runtime === undefined || options.runtime === "miniflare") {
  await startMiniflare();
} else {
  throw new Error(`options.runtime: expected "miniflare" or "workerd", not ${options.runtime}`);
}

// The hookline Worker alone in workerd, its queue a counting service (see the top of the file).
async function startWorkerd() {
  const dir = path.join(out, "workerd");
  fs.mkdirSync(dir, { recursive: true });
  // `embed` paths are relative to the config: copy the build beside it.
  for (const f of ["index.js", "index_bg.wasm"]) fs.copyFileSync(path.join(build, f), path.join(dir, f));
  fs.writeFileSync(
    path.join(dir, "drain.js"),
    `let received = 0;
const metrics = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } } };
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/message") {
      await request.arrayBuffer();
      received += 1;
      return Response.json(metrics);
    }
    if (request.method === "POST" && pathname === "/batch") {
      received += (await request.json()).messages.length;
      return Response.json(metrics);
    }
    // One count for every queue: a soak drives one Worker at a time.
    return Response.json({ "hookline-inbound": received, "baseline-inbound": received });
  },
};
`,
  );
  // The floors, as under Miniflare below.
  fs.writeFileSync(
    path.join(dir, "baseline.js"),
    `export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
  },
};
`,
  );
  fs.writeFileSync(
    path.join(dir, "baseline-queue.js"),
    `export default {
  async fetch(request, env) {
    await env.INBOUND_QUEUE.send(await request.text(), { contentType: "text" });
    return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
  },
};
`,
  );
  const hooklineConfig = { sources: { stripe: { scheme: "stripe", secrets: ["env:STRIPE_SECRET"] } } };
  // JSON string escapes are valid Cap'n Proto text escapes for these (ASCII) strings.
  const str = (v) => JSON.stringify(v);
  fs.writeFileSync(
    path.join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "hookline", worker = .hookline),
    (name = "baseline", worker = .baseline),
    (name = "baselineQueue", worker = .baselineQueue),
    (name = "drain", worker = .drain),
  ],
  sockets = [
    (name = "hookline", address = "127.0.0.1:0", http = (), service = "hookline"),
    (name = "baseline", address = "127.0.0.1:0", http = (), service = "baseline"),
    (name = "baselineQueue", address = "127.0.0.1:0", http = (), service = "baselineQueue"),
    (name = "drain", address = "127.0.0.1:0", http = (), service = "drain"),
  ],
);
const hookline :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = ${str(compatibilityDate)},
  bindings = [
    (name = "HOOKLINE_CONFIG", json = ${str(JSON.stringify(hooklineConfig))}),
    (name = "STRIPE_SECRET", text = ${str(secret)}),
    (name = "INBOUND_QUEUE", queue = "drain"),
  ],
);
const baseline :Workerd.Worker = (
  modules = [(name = "baseline.js", esModule = embed "baseline.js")],
  compatibilityDate = ${str(compatibilityDate)},
);
const baselineQueue :Workerd.Worker = (
  modules = [(name = "baseline-queue.js", esModule = embed "baseline-queue.js")],
  compatibilityDate = ${str(compatibilityDate)},
  bindings = [(name = "INBOUND_QUEUE", queue = "drain")],
);
const drain :Workerd.Worker = (
  modules = [(name = "drain.js", esModule = embed "drain.js")],
  compatibilityDate = ${str(compatibilityDate)},
);
`,
  );
  // The workerd package (CommonJS) exports the binary's path as `default`; Miniflare runs the same.
  const workerdBin = createRequire(import.meta.url)("workerd").default;
  // fd 3: workerd reports each socket's port there once it listens.
  const child = spawn(workerdBin, ["serve", "--experimental", "--control-fd=3", "config.capnp"], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ports = new Map();
  const sockets = ["hookline", "baseline", "baselineQueue", "drain"];
  for await (const line of readline.createInterface(child.stdio[3])) {
    try {
      const event = JSON.parse(line);
      if (event.event === "listen") ports.set(event.socket, event.port);
    } catch {
      continue;
    }
    if (sockets.every((s) => ports.has(s))) break;
  }
  if (!sockets.every((s) => ports.has(s))) throw new Error("workerd exited before it listened");
  const ready = {
    ...Object.fromEntries(sockets.map((s) => [s, `http://127.0.0.1:${ports.get(s)}`])),
    workerd: childrenNamed("workerd"),
    node: process.pid,
  };
  if (ready.workerd.length === 0) throw new Error("no workerd child process found");
  let disposing = false;
  // A workerd that dies under load fails the soak at once, not by a pile of refused connections.
  child.once("exit", (code, signal) => {
    if (disposing) return;
    process.stderr.write(`bench-workerd.mjs: workerd exited (${code ?? signal})\n`);
    process.exit(1);
  });
  stopOnStdinEnd(async () => {
    disposing = true;
    child.kill("SIGTERM");
    await exited;
  });
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
}

async function startMiniflare() {
  // Bundle the peer with the esbuild that wrangler brings: the `worker` condition picks the
  // package's Workers entry (WebCrypto, fetch), as wrangler would.
  fs.mkdirSync(out, { recursive: true });
  const peerScript = path.join(out, "stripe-worker.mjs");
  execFileSync(
    path.join(root, "node_modules/.bin/esbuild"),
    [
      path.join(root, "tests/harness/peer/stripe-worker.js"),
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--conditions=worker,browser",
      "--main-fields=module,main",
      "--log-level=warning",
      `--outfile=${peerScript}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );

  const direct = [{ host: "127.0.0.1", port: 0 }];
  const bucket = (name) => ({ BODIES: name });

  const hookline = {
    name: "hookline",
    ...receiverModules(build),
    bindings: {
      HOOKLINE_CONFIG: {
        sources: { stripe: { scheme: "stripe", secrets: ["env:STRIPE_SECRET"] } },
      },
      STRIPE_SECRET: secret,
      HOOKLINE_BODIES_BUCKET: "hookline-bodies",
    },
    queueProducers: { INBOUND_QUEUE: { queueName: "hookline-inbound" } },
    r2Buckets: bucket("hookline-bodies"),
    unsafeDirectSockets: direct,
  };

  const peer = {
    name: "peer",
    modules: true,
    scriptPath: peerScript,
    modulesRoot: out,
    compatibilityDate,
    bindings: { STRIPE_SECRET: secret, HOOKLINE_BODIES_BUCKET: "peer-bodies" },
    queueProducers: { INBOUND_QUEUE: { queueName: "peer-inbound" } },
    r2Buckets: bucket("peer-bodies"),
    unsafeDirectSockets: direct,
  };

  const baseline = {
    name: "baseline",
    modules: true,
    compatibilityDate,
    script: `export default {
      async fetch(request) {
        await request.arrayBuffer();
        return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
      },
    };`,
    unsafeDirectSockets: direct,
  };

  const baselineQueue = {
    name: "baseline-queue",
    modules: true,
    compatibilityDate,
    script: `export default {
      async fetch(request, env) {
        await env.INBOUND_QUEUE.send(await request.text(), { contentType: "text" });
        return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
      },
    };`,
    queueProducers: { INBOUND_QUEUE: { queueName: "baseline-inbound" } },
    unsafeDirectSockets: direct,
  };

  // The WebCrypto floor: what checking the body's Stripe HMAC costs in JavaScript and nothing
  // else (no replay window, no JSON, no envelope, no queue): the key imported once per isolate,
  // the message `{t}.{body}` put together once, crypto.subtle.verify against each v1 signature.
  // 200 {"ok":true} when one matches, else 401 {"error":"invalid_signature"}.
  const webcrypto = {
    name: "webcrypto",
    modules: true,
    compatibilityDate,
    script: `const encoder = new TextEncoder();
    let key;
    function unhex(s) {
      if (!/^[0-9a-f]{64}$/.test(s)) return null;
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    const answer = (status, body) =>
      new Response(body, { status, headers: { "content-type": "application/json" } });
    export default {
      async fetch(request, env) {
        const body = new Uint8Array(await request.arrayBuffer());
        let t = null;
        const signatures = [];
        for (const item of (request.headers.get("stripe-signature") ?? "").split(",")) {
          const [k, v] = item.split("=");
          if (k === "t") t = v;
          else if (k === "v1") {
            const s = unhex(v ?? "");
            if (s !== null) signatures.push(s);
          }
        }
        if (t !== null) {
          key ??= crypto.subtle.importKey(
            "raw", encoder.encode(env.STRIPE_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
          const prefix = encoder.encode(t + ".");
          const message = new Uint8Array(prefix.length + body.length);
          message.set(prefix);
          message.set(body, prefix.length);
          for (const s of signatures) {
            if (await crypto.subtle.verify("HMAC", await key, s, message)) return answer(200, '{"ok":true}');
          }
        }
        return answer(401, '{"error":"invalid_signature"}');
      },
    };`,
    bindings: { STRIPE_SECRET: secret },
    unsafeDirectSockets: direct,
  };

  const queues = ["hookline-inbound", "peer-inbound", "baseline-inbound"];
  const drain = {
    name: "drain",
    modules: true,
    compatibilityDate,
    script: `const acked = ${JSON.stringify(Object.fromEntries(queues.map((q) => [q, 0])))};
    export default {
      async queue(batch) {
        batch.ackAll();
        acked[batch.queue] = (acked[batch.queue] ?? 0) + batch.messages.length;
      },
      async fetch() {
        return Response.json(acked);
      },
    };`,
    queueConsumers: Object.fromEntries(
      queues.map((q) => [
        q,
        // Full batches of 100 under load, whatever the request rate: the broker's cost per
        // message is then the same for every Worker (with 0, a faster Worker gets bigger batches
        // and a cheaper queue), and a phase's last batch leaves within 50 ms.
        { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 0 },
      ]),
    ),
    unsafeDirectSockets: direct,
  };

  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    // Otherwise Miniflare fetches request.cf data from the internet.
    cf: false,
    workers: [hookline, peer, baseline, baselineQueue, webcrypto, drain],
  });
  await mf.ready;

  const url = async (name) => (await mf.unsafeGetDirectURL(name)).origin;
  const ready = {
    hookline: await url("hookline"),
    peer: await url("peer"),
    baseline: await url("baseline"),
    baselineQueue: await url("baseline-queue"),
    webcrypto: await url("webcrypto"),
    drain: await url("drain"),
    workerd: childrenNamed("workerd"),
    node: process.pid,
  };
  if (ready.workerd.length === 0) throw new Error("no workerd child process found");

  stopOnStdinEnd(() => mf.dispose());

  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
}
