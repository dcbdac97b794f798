import { describe, expect, it } from '@jest/globals'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { buffered, tuneCollections, YOUNG_BUDGET } from '../../../src/util/gc.js'

/** Young-generation collections V8 reports while `work` runs (and shortly after). */
async function youngCollections(work: () => void): Promise<number> {
  let count = 0
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if (
        (entry as { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MINOR
      )
        count++
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  work()
  // GC entries are delivered asynchronously.
  await new Promise(resolve => setTimeout(resolve, 100))
  observer.disconnect()
  return count
}

describe('garbage collection', () => {
  // Twenty budgets' worth of bytes, counted: V8 may collect once or twice on its own meanwhile
  // (jest runs beside the test), never twenty times.
  it('before tuneCollections, counting bytes collects nothing', async () => {
    const seen = await youngCollections(() => {
      for (let i = 0; i < 20; i++) buffered(YOUNG_BUDGET)
    })
    expect(seen).toBeLessThanOrEqual(2)
  })

  it('after it, one young-generation collection per YOUNG_BUDGET bytes', async () => {
    tuneCollections()
    const seen = await youngCollections(() => {
      for (let i = 0; i < 20; i++) buffered(YOUNG_BUDGET)
      // Less than a budget in all: no collection for these.
      for (let i = 0; i < 4; i++) buffered(YOUNG_BUDGET / 8)
    })
    expect(seen).toBeGreaterThanOrEqual(20)
    expect(seen).toBeLessThanOrEqual(22)
  })
})
