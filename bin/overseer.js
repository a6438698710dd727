#!/usr/bin/env node
// Runs the built CLI (dist/, made by `npm run build` / `npm install`); from a checkout without a build it
// runs the TypeScript sources through tsx instead, so `npm install && npx overseer …` always works.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  const { main } = await import(built.href);
  await main();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(new URL('../src/cli.ts', import.meta.url).href);
  await main();
}
