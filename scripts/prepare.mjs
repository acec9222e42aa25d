#!/usr/bin/env node
// `npm install` runs this: it compiles src/ into dist/, which `npm start` and the CLI run. An
// install without dev dependencies (`--omit=dev`) has no TypeScript compiler: it must then ship
// a dist/ built earlier (e.g. `npm ci && npm run build` in an image's build stage), so this says
// so and does not fail the install.
//
// On a machine whose Node.js is older than the supported lines (24, 26), it also fetches the
// pinned Node.js into .toolchain/ (scripts/toolchain.sh) and rebuilds the SQLite driver against
// it: `npm start` and `npm test` then run on that build (scripts/node.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (command, args, env = process.env) => spawnSync(command, args, { stdio: 'inherit', env }).status ?? 1;

if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`dealer-gateway: Node.js ${process.versions.node} is not supported; fetching the pinned Node.js into .toolchain/\n`);
  const toolchain = spawnSync('bash', ['scripts/toolchain.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (toolchain.status !== 0) process.exit(toolchain.status ?? 1);
  const env = { ...process.env };
  for (const [, name, value] of toolchain.stdout.matchAll(/^export (\w+)="(.*)"$/gm)) {
    env[name] = value.replace('$PATH', process.env.PATH ?? '');
  }
  if (run('npm', ['rebuild', 'better-sqlite3'], env) !== 0) process.exit(1);
}

const tsc = 'node_modules/typescript/bin/tsc';
if (!existsSync(tsc)) {
  process.stderr.write('dealer-gateway: TypeScript is not installed, dist/ was not rebuilt (run `npm run build` where it is)\n');
  process.exit(0);
}
process.exit(run(process.execPath, [tsc, '-p', 'tsconfig.build.json']));
