// Runs a wasm32-wasip1 program's `_start` under Node's built-in WASI
// preview 1 (node:wasi), as the V8 peer in Kiln's benchmark race.
//
//   node benches/peers/node-wasi.mjs PROGRAM.wasm [ARGS...]
//
// The program sees its own name as argv[0] and an empty environment, as
// under the other runtimes; the exit code is the one it passed to proc_exit.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, exit, stderr } from 'node:process';

if (argv.length < 3) {
  stderr.write('usage: node node-wasi.mjs PROGRAM.wasm [ARGS...]\n');
  exit(2);
}
const path = argv[2];
const wasi = new WASI({
  version: 'preview1',
  args: argv.slice(2),
  env: {},
  returnOnExit: true,
});
let bytes;
try {
  bytes = await readFile(path);
} catch (e) {
  stderr.write(`node-wasi: cannot read ${path}: ${e.message}\n`);
  exit(1);
}
const module = await WebAssembly.compile(bytes);
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance) ?? 0);
