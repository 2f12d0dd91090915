/**
 * The README's usage example must run as written against the built package, imported by its
 * published name (`qpher` resolves to ./dist through package.json `exports` self-reference).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}, 120_000);

test('the README usage example runs and prints what its comments say', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const usage = readme.slice(readme.indexOf('## Usage'));
  const code = /```ts\n([\s\S]*?)```/.exec(usage)?.[1];
  expect(code).toContain("from 'qpher'");
  const file = `${root}/.readme-example.tmp.ts`;
  writeFileSync(file, code!);
  try {
    const output = execFileSync('node', ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    const expected = [...code!.matchAll(/console\.log\(.*\); \/\/ (\w+)/g)].map((m) => m[1]);
    expect(output.trim().split('\n')).toEqual(expected);
  } finally {
    rmSync(file, { force: true });
  }
});
