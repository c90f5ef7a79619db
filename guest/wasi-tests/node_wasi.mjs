// node_wasi.mjs — the reference runner: runs a WASI preview1 module under
// node's built-in WASI with the same preopen, args and env as `kiln exec`.
// usage: node node_wasi.mjs MODULE.wasm HOSTDIR GUESTDIR [ARGS...]
// env for the guest: KILN_TEST_ENV="K1=v1\nK2=v2". Every import is wrapped in
// a plain JS function (node's fast-call path can crash V8 on some modules).
import { WASI } from 'node:wasi';
import fs from 'node:fs';

const [wasmPath, hostDir, guestDir, ...args] = process.argv.slice(2);
const env = {};
for (const kv of (process.env.KILN_TEST_ENV || '').split('\n').filter(Boolean)) {
  const i = kv.indexOf('=');
  env[kv.slice(0, i)] = kv.slice(i + 1);
}
const wasi = new WASI({ version: 'preview1', args: [wasmPath, ...args], env,
                        preopens: { [guestDir]: hostDir }, returnOnExit: true });
const mod = await WebAssembly.compile(fs.readFileSync(wasmPath));
const raw = wasi.getImportObject().wasi_snapshot_preview1;
const wrapped = {};
for (const k of Object.keys(raw)) wrapped[k] = (...a) => raw[k](...a);
const inst = await WebAssembly.instantiate(mod, { wasi_snapshot_preview1: wrapped });
process.exitCode = wasi.start(inst);
