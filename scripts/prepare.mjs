#!/usr/bin/env node
// `npm install` runs this: it compiles src/ into dist/, which `npm start` and the CLI run. An
// install without dev dependencies (`--omit=dev`) has no TypeScript compiler: it must then ship
// a dist/ built earlier (e.g. `npm ci && npm run build` in an image's build stage), so this says
// so and does not fail the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const tsc = 'node_modules/typescript/bin/tsc';
if (!existsSync(tsc)) {
  process.stderr.write('dealer-gateway: TypeScript is not installed, dist/ was not rebuilt (run `npm run build` where it is)\n');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
