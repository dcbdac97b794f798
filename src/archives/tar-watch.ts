import { Transform, type TransformCallback } from 'node:stream'
import type * as tar from 'tar-stream'
import { ActionError } from '../util/errors.js'
import { bytes } from '../util/format.js'
import type { ReleaseArchive } from '../release/catalog.js'

/**
 * What one archive may inflate to: hook's archives hold compressed kernels, initramfs and dtbs,
 * so they inflate about 1:1. Checked as the bytes arrive, against the compressed bytes received
 * so far, so a small archive that inflates to gigabytes stops within the allowance.
 */
export const INFLATE_FACTOR = 4
export const INFLATE_ALLOWANCE = 16 << 20

const BLOCK = 512

/** Raw type flags tar-stream reads as no type at all; hook's archives never hold them. */
const RAW_TYPES: Record<string, string> = {
  S: 'a GNU sparse file (tar --sparse)',
  V: 'a GNU volume header (tar --label)',
  M: 'a GNU multi-volume continuation (tar --multi-volume)'
}

/**
 * Sits between gunzip and tar-stream. It bounds the inflated size, and keeps the few raw bytes
 * tar-stream has not yet confirmed, so that at each entry it can check what tar-stream skips
 * silently: zero blocks (the end-of-archive marker, after which GNU tar reads nothing more) and
 * type flags tar-stream cannot name. It parses nothing itself: every offset comes from
 * tar-stream.
 */
export class TarWatch extends Transform {
  newestMtime = 0
  private inflated = 0
  private position = 0
  /** Where the bytes tar-stream has not yet accounted for begin. */
  private keepFrom = 0
  private held: Array<{ start: number; buf: Buffer }> = []

  constructor(
    private readonly archive: ReleaseArchive,
    private readonly received: () => number
  ) {
    super({ highWaterMark: 256 << 10 })
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.inflated += chunk.length
    const limit = INFLATE_FACTOR * this.received() + INFLATE_ALLOWANCE
    if (this.inflated > limit) {
      done(
        new ActionError(
          `${this.archive.asset} inflates to more than ${INFLATE_FACTOR} × its compressed size plus ${bytes(INFLATE_ALLOWANCE)} (${bytes(this.inflated)} from ${bytes(this.received())}): a hook archive inflates about 1:1; refusing a damaged or hostile archive, nothing was kept`
        )
      )
      return
    }
    this.held.push({ start: this.position, buf: chunk })
    this.position += chunk.length
    this.trim()
    done(null, chunk)
  }

  /**
   * Called for each entry tar-stream emits, with the offset of its header. Throws when the entry
   * lies beyond the end of the archive; returns why the entry is unsafe, if it is.
   */
  check(headerOffset: number, header: tar.Header): string | undefined {
    for (let at = this.keepFrom; at + BLOCK <= headerOffset; at += BLOCK) {
      if (this.bytes(at, at + BLOCK).every(b => b === 0)) {
        throw new ActionError(
          `${this.archive.asset} holds more tar data after its end-of-archive blocks (entry ${JSON.stringify(header.name)} at byte ${headerOffset} of the tar stream): GNU tar stops at the end-of-archive and never extracts it, so tools would read this archive differently; refusing it`
        )
      }
    }
    let refusal: string | undefined
    if (header.type === null || header.type === undefined) {
      const flag = String.fromCharCode(this.bytes(headerOffset + 156, headerOffset + 157)[0] ?? 0)
      refusal = `entry ${JSON.stringify(header.name)} is ${RAW_TYPES[flag] ?? `of tar type ${JSON.stringify(flag)}, which is not a regular file`}`
    }
    const data = header.type === 'directory' ? 0 : Math.ceil((header.size ?? 0) / BLOCK) * BLOCK
    this.keepFrom = headerOffset + BLOCK + data
    this.trim()
    return refusal
  }

  private trim(): void {
    while (this.held.length > 0) {
      const first = this.held[0]!
      if (first.start + first.buf.length > this.keepFrom) break
      this.held.shift()
    }
  }

  private bytes(from: number, to: number): Buffer {
    const parts: Buffer[] = []
    for (const { start, buf } of this.held) {
      const a = Math.max(from, start)
      const b = Math.min(to, start + buf.length)
      if (a < b) parts.push(buf.subarray(a - start, b - start))
    }
    return Buffer.concat(parts)
  }
}
