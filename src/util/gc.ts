import { setFlagsFromString } from 'node:v8'

/**
 * Garbage-collects in single full collections instead of V8's default incremental marking.
 *
 * A cold run allocates about 1.5 GiB of short-lived buffers (every socket read, node:http's copy
 * of every body piece, every gunzip output piece), on a heap of a few MiB. Once the heap holds
 * more than a few MiB of code and objects (this bundle does), V8 starts incremental marking each
 * time some tens of MiB of those buffers have piled up and finishes it early, so a run does
 * about twice as many full collections as it needs (47-55 instead of 24-28), each marking the
 * whole heap on V8's helper threads. Without incremental marking a collection is one short
 * pause on a small heap. Measured side by side (CONTRIBUTING.md, "Phase 3"): about 0.3-0.4 CPU-s
 * and 0.2 s of wall less per 516 MiB, the same peak RSS. V8 reads the flag whenever it decides
 * how to collect, so setting it at start-up, before any download, applies to the whole run and
 * to the worker threads started after it.
 */
export function collectAtomically(): void {
  setFlagsFromString('--no-incremental-marking')
}
