// npm run bench [-- <name> [options]]: runs every bench/<name>.ts, or only the one named;
// options after the name are passed to it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();
const [name, ...options] = process.argv.slice(2);
if (name && !available.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const bench of name ? [name] : available) {
  console.log(`\n== bench/${bench}.ts ${options.join(' ')}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${bench}.ts`, ...options], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
