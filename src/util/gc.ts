import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * How this process collects garbage. A cold run allocates about three buffers per downloaded
 * byte (node:http's socket read and its copy of each body piece, each gunzip output piece), about
 * 1.5 GiB per 516 MiB, all dead within milliseconds but freed only when V8 collects the
 * JavaScript objects that own them. Those objects are few and small, so the young generation,
 * whose collection would free them cheaply, fills rarely (9 collections a run), and the dead
 * buffers pile up until their sheer size makes V8 mark the whole heap: with V8's defaults, 47-55
 * full collections a run and a peak RSS some 35 MiB above what the stack needs. Node's remedy is
 * a small young generation (`--max-semi-space-size`), which an action cannot set: it is fixed
 * when the process starts, and the runner starts it. So the loops that move bytes through such
 * buffers (a download's body, a file read into an image layer) ask for a young-generation
 * collection themselves, once per YOUNG_BUDGET bytes. Measured side by side with both settings
 * (CONTRIBUTING.md, "Phase 3"; six cold runs of 516 MiB each way): wall median 2.36 -> 1.77 s,
 * about 1 CPU-s less, peak RSS 181-194 -> 141-142 MiB, 1-7 full collections instead of 47-55.
 */

/**
 * Bytes between two young-generation collections. Measured on cold runs (peak RSS, 2-7 runs
 * each): 2 MiB 177 MiB (collections so frequent that buffers still in flight survive two of them
 * and move to the old generation, where only full collections free them), 4-8 MiB 135-153 MiB,
 * 16 MiB 166 MiB, 32 MiB 180 MiB, none 178-183 MiB; 8 MiB gave the steadiest figures.
 */
export const YOUNG_BUDGET = 8 << 20

let collectYoung: (() => void) | undefined
/** Bytes counted since the last young-generation collection. */
let sinceLast = 0

/**
 * Set once at start-up. Full collections are single pauses rather than incremental marking,
 * which V8 otherwise starts early and often under this much off-heap garbage. V8's gc() is made
 * reachable to this module alone, through a context of its own (the main context never gets a
 * global `gc`); if a Node version refuses either flag after start-up, nothing changes but speed.
 */
export function tuneCollections(): void {
  try {
    setFlagsFromString('--no-incremental-marking')
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void
    collectYoung = () => gc({ type: 'minor' })
  } catch {
    collectYoung = undefined
  }
}

/**
 * Counts bytes that just went through short-lived buffers; every YOUNG_BUDGET of them, collects
 * the young generation.
 */
export function buffered(bytes: number): void {
  if (collectYoung === undefined) return
  sinceLast += bytes
  if (sinceLast < YOUNG_BUDGET) return
  sinceLast = 0
  collectYoung()
}
