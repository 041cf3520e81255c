// Copies a wasm module without its "name" custom section (function and data names), leaving
// every other byte as it was: function indices and code offsets in a stack trace from the
// stripped module are the same as in the original, which keeps the names.
//
//   node infra/strip-wasm-names.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node infra/strip-wasm-names.mjs IN.wasm OUT.wasm");
  process.exit(2);
}
const wasm = readFileSync(input);
if (wasm.length < 8 || wasm.readUInt32LE(0) !== 0x6d736100) {
  throw new Error(`${input} is not a wasm module`);
}

// An unsigned LEB128 at `at`: [value, position after it].
function leb(at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    if (at >= wasm.length) throw new Error(`${input}: truncated`);
    const byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}

const kept = [wasm.subarray(0, 8)];
let removed = 0;
for (let pos = 8; pos < wasm.length; ) {
  const [size, body] = leb(pos + 1);
  const end = body + size;
  if (end > wasm.length) throw new Error(`${input}: truncated`);
  let name = null;
  if (wasm[pos] === 0) {
    const [length, at] = leb(body);
    name = wasm.subarray(at, at + length).toString("utf8");
  }
  if (name === "name") removed += end - pos;
  else kept.push(wasm.subarray(pos, end));
  pos = end;
}
writeFileSync(output, Buffer.concat(kept));
console.log(`strip-wasm-names: ${output}: removed the name section (${removed} bytes)`);
