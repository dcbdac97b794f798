import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { once } from 'node:events'
import * as tar from 'tar-stream'
import type { LayerSpec } from './image-plan.js'
import { HashedFeed } from './shared-hash.js'
import { appender } from './write-all.js'

export interface WrittenLayer {
  /** sha256 of the tar stream: the layer digest, and its diff_id (it is uncompressed). */
  digest: string
  size: number
}

const CHUNK = 1 << 20

/**
 * Writes one layer: a tar holding the single entry the spec describes, the file's bytes read
 * from `source`. The digest is computed from the bytes as they are written, in one pass, on the
 * hashing thread (src/shared-hash.ts), as the SHA-512 of a download is.
 */
export async function writeLayer(
  spec: LayerSpec,
  source: string,
  dest: string
): Promise<WrittenLayer> {
  const pack = tar.pack()
  const file = await open(dest, 'w')
  let size = 0
  const feed = new HashedFeed('sha256', appender(file))
  let digest = ''
  try {
    const written = (async () => {
      try {
        for await (const chunk of pack as AsyncIterable<Buffer>) {
          size += chunk.length
          const full = feed.push(chunk)
          if (full) await full
        }
        digest = await feed.digest()
      } catch (err) {
        feed.discard()
        throw err
      }
    })()
    // Settles only if writing fails (a full disk): the pack is then no longer read, and the
    // source must stop waiting for room in it.
    const writeFailed = written.then(() => new Promise<never>(() => undefined))
    writeFailed.catch(() => undefined)
    try {
      // A failing entry (a file no longer of the planned size) destroys the pack: `written` rejects.
      const entry = pack.entry({ ...spec.header })
      if (spec.header.type === 'file') {
        for await (const chunk of createReadStream(source, { highWaterMark: CHUNK })) {
          if (!entry.write(chunk as Buffer)) await Promise.race([once(entry, 'drain'), writeFailed])
        }
      }
      entry.end(() => undefined)
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
      await written.catch(() => undefined)
      throw err
    }
    await written
  } finally {
    await file.close()
  }
  return { digest: `sha256:${digest}`, size }
}
