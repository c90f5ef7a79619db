// node-wasi.mjs — the reference runner for real programs: runs a WASI
// preview1 module under node 20's built-in `wasi` with the same command line
// as `kiln exec`:
//
//   node node-wasi.mjs [--dir HOST::GUEST[:ro]]... [--env K=V]... MODULE.wasm [--] [ARGS...]
//
// (":ro" is accepted and ignored: node's WASI has no read-only preopens.)
// Exit status: the guest's exit code; 134 with a message on stderr when the
// guest traps. Two precautions (see PLATFORM.md):
// - every WASI import is wrapped in a plain JS function, because node's
//   fast-call path for the raw imports crashes V8 on some modules;
// - the guest runs in a worker thread with a 256 MiB stack, since deeply
//   recursive guests overflow the main thread's stack.
// The guest's stdio are the process's fds 0-2 (uvwasi writes them directly).
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import fs from 'node:fs';

function usage(msg) {
  process.stderr.write(`node-wasi: ${msg}\nusage: node node-wasi.mjs [--dir HOST::GUEST[:ro]] ` +
                       `[--env K=V] MODULE.wasm [--] [ARGS...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const preopens = {};
  const env = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir' || a === '--env') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      const v = argv[++i];
      if (a === '--dir') {
        const sep = v.indexOf('::');
        if (sep < 0) usage(`--dir ${v}: expected HOST::GUEST`);
        const guest = v.slice(sep + 2).replace(/:ro$/, '');
        preopens[guest] = v.slice(0, sep);
      } else {
        const eq = v.indexOf('=');
        if (eq <= 0) usage(`--env ${v}: expected K=V`);
        env[v.slice(0, eq)] = v.slice(eq + 1);
      }
    } else if (a.startsWith('--') && a !== '--') {
      usage(`unknown option ${a}`);
    } else {
      break;
    }
  }
  if (i >= argv.length) usage('no module');
  const module = argv[i++];
  if (argv[i] === '--') i++;
  return { module, args: argv.slice(i), preopens, env };
}

if (isMainThread) {
  const opts = parseArgs(process.argv.slice(2));
  const w = new Worker(new URL(import.meta.url), {
    workerData: opts,
    resourceLimits: { stackSizeMb: 256 },
    stdout: false,
    stderr: false,
    stdin: false,
  });
  w.on('message', (code) => { process.exitCode = code; });
  w.on('error', (e) => {
    process.stderr.write(`node-wasi: guest trapped: ${e && e.message}\n`);
    process.exitCode = 134;
  });
} else {
  const { module, args, preopens, env } = workerData;
  // node:wasi announces itself as experimental on stderr, which would differ
  // from kiln's stderr: silence that one warning before loading it.
  const emit = process.emitWarning;
  process.emitWarning = (w, ...rest) => {
    if (String(w).includes('WASI') || String(rest[0]) === 'ExperimentalWarning') return;
    emit.call(process, w, ...rest);
  };
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', args: [module, ...args], env, preopens,
                          returnOnExit: true });
  const mod = await WebAssembly.compile(fs.readFileSync(module));
  const raw = wasi.getImportObject().wasi_snapshot_preview1;
  const wrapped = {};
  for (const k of Object.keys(raw)) wrapped[k] = (...a) => raw[k](...a);
  const inst = await WebAssembly.instantiate(mod, { wasi_snapshot_preview1: wrapped });
  parentPort.postMessage(wasi.start(inst));
}
