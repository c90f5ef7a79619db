// node_run.mjs — runs a benchmark kernel under node's WebAssembly (V8: JIT, the fast reference):
// `node node_run.mjs K.wasm N` prints run(N). Kernels have no imports.
import { readFileSync } from 'node:fs';

const [file, n] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
console.log(instance.exports.run(Number(n)));
