/**
 * Feed reader throughput: node --import tsx bench/feed-parse.ts [count] [--ndjson-only] [--keep]
 *
 * Writes `count` (default 1,000,000) records of about 200 bytes as a JSON array and as NDJSON into a temp
 * folder, then times each way of reading them in its own child process, so each peak RSS is its own.
 * Baselines in the same run: the raw read, and NDJSON split + JSON.parse (+ sha1, the client ceiling).
 */
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFeedFromFile } from '../src/sync/feed/index.ts';

type Result = { mode: string; records: number; bytes: number; seconds: number; maxRssMb: number };

const CHUNK = 1 << 20;

function record(i: number): string {
  return JSON.stringify({
    id: `p${String(i).padStart(8, '0')}`,
    name: i % 10 === 0 ? `Crème brûlée n°${i} — “spécial”` : `Product ${i} lorem ipsum dolor`,
    price: Math.round(i * 7.31) / 100,
    tags: ['alpha', i % 2 === 0 ? 'even' : 'odd', `t${i % 97}`],
    attrs: { color: ['red', 'green', 'blue'][i % 3], size: 'M', weight: (i % 50) / 4, path: 'a\\b"c' },
    updatedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  });
}

async function writeFeeds(dir: string, count: number, ndjsonOnly: boolean): Promise<void> {
  const ndjson = createWriteStream(join(dir, 'feed.ndjson'));
  const json = ndjsonOnly ? null : createWriteStream(join(dir, 'feed.json'));
  json?.write('[\n');
  let ndjsonPart = '';
  let jsonPart = '';
  const flush = async (): Promise<void> => {
    const waits = [new Promise((resolve) => ndjson.write(ndjsonPart, resolve))];
    if (json) waits.push(new Promise((resolve) => json.write(jsonPart, resolve)));
    await Promise.all(waits);
    ndjsonPart = '';
    jsonPart = '';
  };
  for (let i = 1; i <= count; i++) {
    const text = record(i);
    ndjsonPart += `${text}\n`;
    if (json) jsonPart += i === count ? `  ${text}\n` : `  ${text},\n`;
    if (ndjsonPart.length > CHUNK) await flush();
  }
  jsonPart += ']\n';
  await flush();
  await Promise.all([ndjson, json].map((s) => s && new Promise((resolve) => s.end(resolve))));
}

async function measure(mode: string, file: string): Promise<Result> {
  const started = process.hrtime.bigint();
  let records = 0;
  const stream = (): AsyncIterable<Buffer> => createReadStream(file, { highWaterMark: CHUNK });
  if (mode === 'raw read') {
    for await (const chunk of stream()) records += chunk.length > 0 ? 0 : 1;
  } else if (mode.startsWith('ndjson split')) {
    const withHash = mode.includes('sha1');
    let carry: Buffer = Buffer.alloc(0);
    for await (const piece of stream()) {
      const chunk = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        const text = chunk.toString('utf8', start, nl);
        if (JSON.parse(text) !== null) records++;
        if (withHash) hash('sha1', text, 'base64');
        start = nl + 1;
      }
      carry = chunk.subarray(start);
    }
  } else {
    const feed = readFeedFromFile(file, { idField: 'id' });
    let step = await feed.next();
    for (; !step.done; step = await feed.next()) records += step.value.records.length;
    if (step.value.errorCount > 0) throw new Error(JSON.stringify(step.value.errors.slice(0, 3)));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  return { mode, records, bytes: statSync(file).size, seconds, maxRssMb };
}

function runChild(mode: string, file: string): Result {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`${mode} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Result;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    console.log(JSON.stringify(await measure(args[1]!, args[2]!)));
    return;
  }
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const ndjsonOnly = args.includes('--ndjson-only');
  const dir = mkdtempSync(join(tmpdir(), 'feed-parse-'));
  try {
    const t0 = Date.now();
    await writeFeeds(dir, count, ndjsonOnly);
    const ndjson = join(dir, 'feed.ndjson');
    const size = statSync(ndjson).size;
    console.log(
      `${count} records, ${(size / 1e6).toFixed(0)} MB NDJSON (${(size / count).toFixed(0)} B/record), written in ${Date.now() - t0} ms`,
    );
    const runs: [string, string][] = [
      ['raw read', ndjson],
      ['ndjson split+parse (baseline)', ndjson],
      ['ndjson split+parse+sha1', ndjson],
      ['readFeed ndjson', ndjson],
    ];
    if (!ndjsonOnly) runs.push(['readFeed json array', join(dir, 'feed.json')]);
    const results = runs.map(([mode, file]) => runChild(mode, file));
    const baseline = results[1]!.records / results[1]!.seconds;
    console.log('| mode | seconds | records/s | MB/s | vs baseline | peak RSS MB |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      const perSecond = r.records / r.seconds;
      const cells = [
        r.mode,
        r.seconds.toFixed(2),
        r.mode === 'raw read' ? '—' : Math.round(perSecond).toLocaleString('en'),
        (r.bytes / 1e6 / r.seconds).toFixed(0),
        r.mode === 'raw read' ? '—' : (perSecond / baseline).toFixed(2),
        r.maxRssMb.toFixed(0),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
