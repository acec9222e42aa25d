#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: the request thread's young generation capped at 8 MB (V8 takes it only
// on the command line; our other threads get the same cap in src/db/threads.ts). Measured with
// `npm run bench:cpu`, interleaved, same throughput: idle RSS 178 -> 162 MB, peak 339-344 -> 288-295
// MB (docs/performance.md). `npm start` passes the same flag; so should a container's command.
// The CLI entry point. It runs the compiled JavaScript in dist/ — the production runtime: no
// TypeScript compiler in the process (156 MB idle RSS with sources compiled at run time, see
// docs/performance.md). `npm install` builds dist/ (the `prepare` script); when a source file is
// newer than the build, the build is redone here first, so an edited checkout never runs stale
// code. Without TypeScript installed and without dist/, it falls back to the sources through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node.js 20 is past its end of life (no security fixes since 2026-04-30): refuse it in one line
// rather than run, or fail later on an API it lacks. 24 and 26 are the supported LTS lines.
const MIN_NODE_MAJOR = 24;
if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  process.stderr.write(
    `dealer-gateway needs Node.js ${MIN_NODE_MAJOR} or newer (the supported LTS lines are 24 and 26); this is Node.js ${process.versions.node}\n`,
  );
  process.exit(1);
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestSource(path) : entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function isStale() {
  if (!existsSync(compiled)) return true;
  // A published package ships dist/ without src/: nothing to compare against.
  return existsSync(sources) && newestSource(sources) > statSync(compiled).mtimeMs;
}

function build() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return false;
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] });
  return result.status === 0;
}

let entry = compiled;
if (isStale() && !build()) {
  // Development checkout without a working build: run the sources.
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(sources, 'cli', 'main.ts');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
