import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { once } from 'node:events'
import * as tar from 'tar-stream'
import type { LayerSpec } from './image-plan.js'

export interface WrittenLayer {
  /** sha256 of the tar stream: the layer digest, and its diff_id (it is uncompressed). */
  digest: string
  size: number
}

const CHUNK = 1 << 20

/**
 * Writes one layer: a tar holding the single entry the spec describes, the file's bytes read
 * from `source`. The digest is computed from the bytes as they are written, in one pass.
 */
export async function writeLayer(
  spec: LayerSpec,
  source: string,
  dest: string
): Promise<WrittenLayer> {
  const pack = tar.pack()
  const hash = createHash('sha256')
  const file = await open(dest, 'w')
  let size = 0
  try {
    const written = (async () => {
      for await (const chunk of pack as AsyncIterable<Buffer>) {
        hash.update(chunk)
        size += chunk.length
        await file.write(chunk)
      }
    })()
    try {
      // A failing entry (a file no longer of the planned size) destroys the pack: `written` rejects.
      const entry = pack.entry({ ...spec.header })
      if (spec.header.type === 'file') {
        for await (const chunk of createReadStream(source, { highWaterMark: CHUNK })) {
          if (!entry.write(chunk as Buffer)) await once(entry, 'drain')
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
  return { digest: `sha256:${hash.digest('hex')}`, size }
}
