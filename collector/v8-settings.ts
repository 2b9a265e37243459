/**
 * V8 settings made before any module of ours loads: imported first by cli.ts (the `#!`
 * line has no room left for flags, see there).
 *
 * node's CommonJS export lexer (cjs-module-lexer's `parseSource`, run on each CommonJS
 * package an ES module imports) is not given to the optimizing compiler. That one large
 * function was optimized four times while HomeStation started, 80-160 ms of compiler
 * time each on V8's background threads, and the compiler's memory for it set the
 * process's peak RSS: with an MQTT config, start-up peak 80-84 -> 70-71 MB and start-up
 * CPU 0.9-1.2 -> 0.6-0.75 s (measured; docs/benchmarks.md). The lexer runs only while
 * modules load, and start-up took less CPU without its optimized code, not more. A
 * no-op on a node whose lexer is named otherwise.
 *
 * No on-stack replacement (OSR): a function is optimized for its next call, never in
 * the middle of a long loop. A scrape's long loops (SampleText.write over 30,000
 * series, the MQTT snapshot) were each compiled twice, once OSR in their first long
 * run and once for their later calls, on V8's background threads at the same time:
 * the compiler's zones reached 9.3 MB (`--trace-zone-stats`) while the first devices
 * of 20,000 series arrived, and that set the process's peak RSS. Without OSR they peak
 * at 5.2-5.6 MB; the 20,000-series peak RSS was 102-103 MB in six runs before, 96-103
 * (median 98) in eleven after, with the declared sample slot of contract.ts
 * (bench:scrape; docs/benchmarks.md). The cost is a first call of a long loop run
 * unoptimized: the first scrape of a large exposition, once.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--turbo-filter=-parseSource');
setFlagsFromString('--no-use-osr');
