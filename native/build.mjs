#!/usr/bin/env node
// Builds Sheriff's native addon (native/build/Release/sheriff_native.node) with node-gyp.
//   node native/build.mjs             build; exit non-zero on failure
//   node native/build.mjs --optional  build; on failure warn and exit 0 (npm install on a
//                                     machine without a compiler: the built-in suites then
//                                     report a clear "native addon not built" error result)
// The addon links neither CUDA nor the kernels library (it dlopen()s them), so this needs
// only a C++ compiler, python3 and Node's headers.
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes("--optional");

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  candidates.push(join(here, "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  // the node-gyp bundled with npm
  const npmCli = process.env.npm_execpath;
  if (npmCli) candidates.push(join(dirname(realpathSync(npmCli)), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((c) => existsSync(c));
}

function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  // Node's own headers next to the binary (no download needed, works offline)
  const prefix = resolve(dirname(process.execPath), "..");
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) return [`--nodedir=${prefix}`];
  return [];
}

function fail(message) {
  if (optional) {
    console.warn(`sheriff: native addon NOT built (${message}); built-in kernel suites will report an error result`);
    process.exit(0);
  }
  console.error(`sheriff: native addon build failed: ${message}`);
  process.exit(1);
}

const gyp = findNodeGyp();
if (!gyp) fail("node-gyp not found");
const jobs = process.env.JOBS ?? "2";
const run = spawnSync(process.execPath, [gyp, "rebuild", `--jobs=${jobs}`, ...nodedirArgs()], { cwd: here, stdio: "inherit" });
if (run.error) fail(run.error.message);
if (run.status !== 0) fail(`node-gyp exited with ${run.status ?? run.signal}`);
if (!existsSync(join(here, "build", "Release", "sheriff_native.node"))) fail("node-gyp produced no sheriff_native.node");
console.log("sheriff: native addon built: native/build/Release/sheriff_native.node");
