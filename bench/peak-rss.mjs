// Preloaded (`node --import ./bench/peak-rss.mjs bin/sync-manager.js …`) into a process the bench
// measures: at exit it writes one line to stderr, `peak-rss {"peakMb":…}`, the process's own peak RSS
// (VmHWM; Linux). With BENCH_VERBOSE it also samples process.memoryUsage() every 100 ms and adds what the
// highest sampled RSS was made of: the V8 heap, typed arrays and Buffers, and the rest (code, stacks,
// the allocator's own).
import { peakRssMb } from './vmhwm.mjs';

const mb = (bytes) => Math.round(bytes / 2 ** 20);
let highest = process.memoryUsage();
if (process.env.BENCH_VERBOSE) {
  setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > highest.rss) highest = now;
  }, 100).unref();
}

process.on('exit', () => {
  const report = { peakMb: peakRssMb() };
  if (process.env.BENCH_VERBOSE) {
    Object.assign(report, {
      atHighestSample: {
        rssMb: mb(highest.rss),
        heapMb: mb(highest.heapTotal),
        heapUsedMb: mb(highest.heapUsed),
        arrayBuffersMb: mb(highest.arrayBuffers),
        otherMb: mb(highest.rss - highest.heapTotal - highest.arrayBuffers),
      },
    });
  }
  process.stderr.write(`peak-rss ${JSON.stringify(report)}\n`);
});
