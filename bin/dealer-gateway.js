#!/usr/bin/env node
// The CLI entry point. It runs the TypeScript sources directly through tsx, so
// `npx dealer-gateway …` works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
