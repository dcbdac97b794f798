/** Human figures for the log and the job summary. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

export function rate(n: number, ms: number): string {
  return ms <= 0 ? 'n/a' : `${bytes((n * 1000) / ms)}/s`
}

/**
 * Runs `work` over `items` with at most `limit` in flight, keeping the input order. After the
 * first failure nothing new starts, and it throws only once every started item has settled, so
 * no download or extraction is still writing while the caller cleans up.
 */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const i = next++
      try {
        results[i] = await work(items[i]!)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure) throw failure.err
  return results
}
