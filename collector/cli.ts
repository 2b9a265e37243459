#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 node --max-semi-space-size=2 --heap-growing-percent=25
/**
 * `homestation`: run the collector, check a config, collect once, print the
 * metric catalogue or the config schema.
 *
 * The V8 flags above (repeated by the image's entrypoint and `npm start`) are for a
 * small always-on process: a young generation of at most 2 x 2 MB instead of V8's
 * growing to 2 x 16 MB under load, and the old generation let grow by 25% between
 * full collections instead of V8's up to 4x for a small heap. Measured (bench:mqtt,
 * bench:scrape; docs/benchmarks.md): peak RSS of the MQTT flood 125-130 -> 87-94 MB,
 * of 20,000 series 144 -> 113 MB, at the same CPU per message and scrape p99.
 *
 * GLIBC_TUNABLES (the line stays under the 127 bytes that kernels before 5.1 read of
 * a #! line, so there is no room to keep a user's own tunables): glibc gives a freed
 * block of 32 KB or more back to the kernel instead of raising its mmap threshold
 * and keeping the block in an arena. V8's compiler and parser zones come in 32 KB
 * segments: kept, they were 5-10 MB of RSS that no one used after start-up.
 * Measured side by side: idle at 60 s 68-74 -> 64 MB, 20,000 series peak 111-118 ->
 * 99-110 MB, every exporter 102 -> 94 MB (docs/benchmarks.md).
 *
 * And V8 settings made before any module of ours loads (so not on the `#!` line,
 * which has no room left): see v8-settings.ts.
 */
import './v8-settings.js';

await import('./commands.js');
