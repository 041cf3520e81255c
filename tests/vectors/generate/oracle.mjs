// SDK oracle: exposes the providers' official npm SDKs to generate.py.
//
// Reads one JSON array of requests on stdin and writes one JSON array of results (same order)
// on stdout. Every request is {"op": "...", ...}; every result is {"ok": true, "value": ...} or
// {"ok": false, "error": "..."}. Bodies always travel as base64 ("body_b64") so they stay
// byte-exact; an op that hands the body to an SDK taking strings decodes it as UTF-8 first.
//
// Nothing here reads the real clock: ops that need "now" get it in the request, and the
// SDKs that only read Date.now() / new Date() run under a frozen Date (see withFrozenDate).

import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';

import '@shopify/shopify-api/adapters/web-api';
import { shopifyApi, ApiVersion, LogSeverity } from '@shopify/shopify-api';
import Stripe from 'stripe';
import { sign as octokitSign, verify as octokitVerify, verifyWithFallback } from '@octokit/webhooks-methods';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { Paddle, Environment as PaddleEnvironment } from '@paddle/paddle-node-sdk';
import { verifyKey } from 'discord-interactions';

const PACKAGES = [
  'stripe',
  '@octokit/webhooks-methods',
  '@shopify/shopify-api',
  '@paddle/paddle-node-sdk',
  '@linear/sdk',
  'discord-interactions',
];

const RealDate = Date;

// Runs fn with Date.now() and `new Date()` pinned to nowSeconds.
async function withFrozenDate(nowSeconds, fn) {
  const fixedMs = nowSeconds * 1000;
  class FrozenDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(fixedMs);
      else super(...args);
    }
    static now() {
      return fixedMs;
    }
  }
  globalThis.Date = FrozenDate;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

const bytes = (b64) => Buffer.from(b64, 'base64');
const text = (b64) => {
  const buf = bytes(b64);
  const s = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  return s;
};

function ed25519PrivateKey(seedHex) {
  // PKCS#8 wrapper for a raw 32-byte Ed25519 seed (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

const ops = {
  versions() {
    const out = {};
    for (const name of PACKAGES) {
      const url = new URL(`./node_modules/${name}/package.json`, import.meta.url);
      out[name] = JSON.parse(readFileSync(url, 'utf8')).version;
    }
    out.node = process.versions.node;
    return out;
  },

  // --- Stripe -------------------------------------------------------------------------------
  'stripe.sign'(r) {
    return Stripe.webhooks.generateTestHeaderString({
      payload: text(r.body_b64),
      secret: r.secret,
      timestamp: r.timestamp,
      ...(r.scheme ? { scheme: r.scheme } : {}),
    });
  },
  'stripe.verify'(r) {
    // constructEvent(payload, header, secret, tolerance, cryptoProvider, receivedAt):
    // default tolerance (300 s), clock pinned through receivedAt (milliseconds).
    Stripe.webhooks.constructEvent(bytes(r.body_b64), r.header, r.secret, undefined, undefined, r.now * 1000);
    return true;
  },

  // --- GitHub -------------------------------------------------------------------------------
  async 'github.sign'(r) {
    return octokitSign(r.secret, text(r.body_b64));
  },
  async 'github.verify'(r) {
    const [first, ...rest] = r.secrets;
    if (rest.length === 0) return octokitVerify(first, text(r.body_b64), r.signature);
    return verifyWithFallback(first, text(r.body_b64), r.signature, rest);
  },

  // --- Shopify ------------------------------------------------------------------------------
  async 'shopify.verify'(r) {
    const shopify = shopifyApi({
      apiKey: 'hookline-test-api-key',
      apiSecretKey: r.secret,
      apiVersion: ApiVersion.October25,
      hostName: new URL(r.url).host,
      isEmbeddedApp: false,
      logger: { level: LogSeverity.Error },
    });
    const headers = new Headers();
    for (const [k, v] of r.headers) headers.append(k, v);
    const rawRequest = new Request(r.url, { method: r.method, headers });
    const result = await shopify.webhooks.validate({ rawBody: text(r.body_b64), rawRequest });
    return result;
  },

  // --- Paddle -------------------------------------------------------------------------------
  async 'paddle.verify'(r) {
    // isSignatureValid checks only the last h1= entry against one secret, with a 5 s window.
    // The documented entry point: new Paddle(apiKey).webhooks (constructing Paddle also installs the Node
    // runtime's crypto provider, without which isSignatureValid always returns false). No request is made.
    const paddle = new Paddle('hookline-test-not-an-api-key', { environment: PaddleEnvironment.sandbox });
    return withFrozenDate(r.now, () => paddle.webhooks.isSignatureValid(text(r.body_b64), r.secret, r.header));
  },

  // --- Linear -------------------------------------------------------------------------------
  async 'linear.verify'(r) {
    // verify() ignores its timestamp argument and checks the body's webhookTimestamp (ms)
    // against Date.now() with a 60 s window; it throws on any failure.
    return withFrozenDate(r.now, () => new LinearWebhookClient(r.secret).verify(bytes(r.body_b64), r.signature, r.timestamp));
  },

  // --- Discord ------------------------------------------------------------------------------
  'discord.public_key'(r) {
    const pub = crypto.createPublicKey(ed25519PrivateKey(r.seed_hex));
    const der = pub.export({ format: 'der', type: 'spki' });
    return der.subarray(der.length - 32).toString('hex');
  },
  'discord.sign'(r) {
    const message = Buffer.concat([Buffer.from(r.timestamp, 'utf8'), bytes(r.body_b64)]);
    return crypto.sign(null, message, ed25519PrivateKey(r.seed_hex)).toString('hex');
  },
  async 'discord.verify'(r) {
    return verifyKey(bytes(r.body_b64), r.signature, r.timestamp, r.public_key);
  },
};

async function main() {
  const requests = JSON.parse(readFileSync(0, 'utf8'));
  const results = [];
  for (const r of requests) {
    const op = ops[r.op];
    if (!op) {
      results.push({ ok: false, error: `unknown op ${r.op}` });
      continue;
    }
    try {
      results.push({ ok: true, value: await op(r) });
    } catch (e) {
      results.push({ ok: false, error: String(e && e.message ? e.message : e) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

await main();
