import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Every variable src/config.ts reads, found in its text: `env.NAME` and `env, 'NAME'`. */
function configVariables(): string[] {
  const text = read('src/config.ts');
  const names = [...text.matchAll(/env\.([A-Z][A-Z0-9_]+)|env,\s*'([A-Z][A-Z0-9_]+)'/g)].map(
    (match) => match[1] ?? match[2]!,
  );
  return [...new Set(names)].sort();
}

test('every setting in src/config.ts is in .env.example and in the README table', () => {
  const variables = configVariables();
  assert.ok(variables.length >= 20, `found only ${variables.length} variables`);
  const example = read('.env.example');
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Configuration'));
  for (const name of variables) {
    assert.match(example, new RegExp(`^# ${name}=`, 'm'), `.env.example lacks ${name}`);
    assert.ok(table.includes(`\`${name}\``), `the README's configuration table lacks ${name}`);
  }
  // And nothing stale: .env.example names no variable the config no longer reads.
  for (const [, name] of example.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)) {
    assert.ok(variables.includes(name!), `.env.example names ${name}, which src/config.ts does not read`);
  }
});
