import type { FileHandle } from 'node:fs/promises'

/** Writes every byte at `position`: a write to a file may take fewer bytes than it was given. */
export async function writeAll(out: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await out.write(bytes, done, bytes.length - done, position + done)
    if (bytesWritten === 0) throw new Error(`a write to ${out.fd} took no bytes`)
    done += bytesWritten
  }
}

/**
 * Appends to `out` piece after piece, each written at its own offset: pieces may be written at
 * once (a HashedFeed has two buffers in flight), and writes without a position could land out
 * of order.
 */
export function appender(out: FileHandle): (bytes: Buffer) => Promise<void> {
  let position = 0
  return bytes => {
    const at = position
    position += bytes.length
    return writeAll(out, bytes, at)
  }
}
