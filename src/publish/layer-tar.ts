import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { once } from 'node:events'
import * as tar from 'tar-stream'
import type { LayerSpec } from './image-plan.js'
import { HashedFeed } from '../archives/shared-hash.js'
import { appender } from '../archives/write-all.js'
import { buffered } from '../util/gc.js'

export interface WrittenLayer {
  /** sha256 of the tar stream: the layer digest, and its diff_id (it is uncompressed). */
  digest: string
  size: number
  /**
   * sha256 (hex) of the file's bytes as read into the layer, to compare with what was checked:
   * the layer holds these bytes, whatever the file holds later. Empty for a link.
   */
  content: string
}

const CHUNK = 1 << 20

/**
 * Writes one layer: a tar holding the single entry the spec describes, the file's bytes read
 * from `source`. The digest is computed from the bytes as they are written, in one pass, on the
 * hashing thread (src/archives/shared-hash.ts), as the SHA-512 of a download is; so is the sha256 of the
 * file's bytes as they are read. The tarball is created before `source` is opened.
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
  const read = spec.header.type === 'file' ? new HashedFeed('sha256', () => undefined) : undefined
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
          buffered((chunk as Buffer).length)
          const full = read!.push(chunk as Buffer)
          if (full) await full
          if (!entry.write(chunk as Buffer)) await Promise.race([once(entry, 'drain'), writeFailed])
        }
      }
      entry.end(() => undefined)
      pack.finalize()
    } catch (err) {
      read?.discard()
      pack.destroy(err as Error)
      await written.catch(() => undefined)
      throw err
    }
    await written.catch(err => {
      read?.discard()
      throw err
    })
  } finally {
    await file.close()
  }
  const content = read ? await read.digest() : ''
  return { digest: `sha256:${digest}`, size, content }
}
