import { chmod, open } from 'node:fs/promises'
import * as path from 'node:path'
import type * as tar from 'tar-stream'
import { ActionError } from '../util/errors.js'
import { SAFE_NAME } from '../release/checksums.js'
import type { ReleaseArchive } from '../release/catalog.js'
import { foreignStandardName, requiredFiles } from '../release/variants.js'
import { RECORD } from './archive-cache.js'
import type { ArchiveFile } from './content.js'
import { HashedFeed } from './shared-hash.js'
import type { TarWatch } from './tar-watch.js'

/** Longest file name most file systems accept (NAME_MAX). */
const NAME_MAX = 255

/**
 * Writes the entries of an archive that must hold only regular files at its root, refusing
 * anything else before it is written: hook archives never contain directories or links, so
 * anything else is damage or an attack. Every file is hashed as it is written, so its sha256
 * costs no second read.
 */
export function extractEntries(
  extractor: tar.Extract,
  watch: TarWatch,
  archive: ReleaseArchive,
  dir: string
): ArchiveFile[] {
  const files: ArchiveFile[] = []
  const seen = new Set<string>()
  extractor.on('entry', (header, stream, next) => {
    // Input ending mid-entry destroys the entry stream, possibly while this handler still awaits
    // before reading it; the extractor fails the pipeline with the same error, so here it is only
    // kept from escaping as an uncaught exception.
    stream.on('error', () => undefined)
    const handle = async (): Promise<void> => {
      const offset = (stream as unknown as { offset?: unknown }).offset
      if (typeof offset !== 'number') throw new Error('internal: tar-stream gave no entry offset')
      const name = entryName(watch.check(offset, header), header, archive, seen)
      if (name === undefined) {
        stream.resume()
        return
      }
      seen.add(name)
      const file = path.join(dir, name)
      const { size, sha256 } = await writeEntry(
        stream as AsyncIterable<Buffer>,
        file,
        archive,
        name
      )
      // Read-only: the bundle links these files, so a later step writing to the bundle cannot
      // silently change what the tool cache serves to the next run.
      await chmod(file, 0o444)
      files.push({ name, size, sha256 })
      if (header.mtime) watch.newestMtime = Math.max(watch.newestMtime, header.mtime.getTime())
    }
    handle().then(
      () => next(),
      (err: unknown) => {
        stream.resume()
        next(err instanceof Error ? err : new Error(String(err)))
      }
    )
  })
  // Complete once the extraction pipeline has finished.
  return files
}

function unsafe(archive: ReleaseArchive, what: string): ActionError {
  return new ActionError(
    `${archive.asset} is unsafe: ${what}; a hook archive holds only regular files at its root, refusing to use it`
  )
}

/**
 * The name an entry is written under, once everything about it is checked; undefined for the
 * archive's root directory, which is skipped. `refusal`: what TarWatch found unsafe in it.
 */
function entryName(
  refusal: string | undefined,
  header: tar.Header,
  archive: ReleaseArchive,
  seen: ReadonlySet<string>
): string | undefined {
  if (refusal !== undefined) throw unsafe(archive, refusal)
  const name = header.name.replace(/^(\.\/)+/, '')
  if (header.type === 'directory' && (name === '' || name === '.' || name === './')) {
    return undefined
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') {
    const link = header.linkname ? ` -> ${header.linkname}` : ''
    throw unsafe(archive, `entry ${JSON.stringify(header.name)} is a ${header.type}${link}`)
  }
  if (name.includes('/') || name === '..' || path.isAbsolute(header.name)) {
    throw unsafe(archive, `entry ${JSON.stringify(header.name)} is not at the archive root`)
  }
  if (!SAFE_NAME.test(name)) {
    throw unsafe(
      archive,
      `entry ${JSON.stringify(header.name)} has characters outside A-Z a-z 0-9 . _ -`
    )
  }
  if (Buffer.byteLength(name) > NAME_MAX) throw nameTooLong(archive, name)
  if (name === RECORD || seen.has(name)) {
    throw unsafe(archive, `entry ${JSON.stringify(name)} appears twice or is reserved`)
  }
  const foreign = foreignStandardName(archive.id, name)
  if (foreign !== undefined) {
    throw new ActionError(
      `${archive.asset} carries ${name}, a standard name of ${foreign} boot files that the bundle makes itself: an archive may carry a standard name only as its own ${requiredFiles(archive.id).join(' or ')}; refusing it`
    )
  }
  return name
}

/** Writes one entry's bytes to a new file, hashing them on the way. */
async function writeEntry(
  stream: AsyncIterable<Buffer>,
  file: string,
  archive: ReleaseArchive,
  name: string
): Promise<{ size: number; sha256: string }> {
  let size = 0
  const out = await open(file, 'wx', 0o644).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') throw nameTooLong(archive, name)
    throw err
  })
  // A failed write (a full disk) lets the entry drain rather than break off: breaking off
  // would close the extractor without its error, and the cause would be lost.
  let failed: unknown
  // Hashed (sha256) and written on the hashing thread, half a megabyte at a time: one hand-over
  // per piece.
  const feed = new HashedFeed('sha256', () => undefined, {
    fd: out.fd,
    failed: err => (failed ??= err)
  })
  let sha256: string
  try {
    try {
      for await (const chunk of stream) {
        if (failed !== undefined) continue
        size += chunk.length
        const full = feed.push(chunk)
        if (full) await full
      }
      sha256 = await feed.digest()
    } catch (err) {
      feed.discard()
      throw err
    }
  } finally {
    // Not before the hashing thread is done writing: the descriptor could be reused meanwhile.
    await feed.settled()
    await out.close()
  }
  if (failed !== undefined) throw failed
  return { size, sha256 }
}

function nameTooLong(archive: ReleaseArchive, name: string): ActionError {
  return new ActionError(
    `${archive.asset} has an entry whose name is ${Buffer.byteLength(name)} bytes long (${JSON.stringify(name.slice(0, 32) + '…')}), too long for a file name on the runner (at most ${NAME_MAX}): a hook archive holds only vmlinuz-<id>, initramfs-<id> and dtbs-<id>.tar.gz; refusing it`
  )
}
