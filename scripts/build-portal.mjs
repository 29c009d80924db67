// Builds the portal (portal/) into dist/portal: type-checks it, bundles src/main.tsx with its one
// library (Preact) into app.js with esbuild, and copies index.html and styles.css. The API server
// serves that folder under /portal/ (functions/portal.ts). Run by `npm run build`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'portal');
const out = path.join(root, 'dist', 'portal');

execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(src, 'tsconfig.json')], { stdio: 'inherit' });
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(src, 'src', 'main.tsx')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
await copyFile(path.join(src, 'index.html'), path.join(out, 'index.html'));
await copyFile(path.join(src, 'styles.css'), path.join(out, 'styles.css'));
