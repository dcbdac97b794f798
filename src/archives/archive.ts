import { randomUUID } from 'node:crypto'
import { chmod, mkdir, open, rm } from 'node:fs/promises'
import * as path from 'node:path'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import * as core from '@actions/core'
import * as tar from 'tar-stream'
import { RECORD, fromCache, saveToCache } from './archive-cache.js'
import { SAFE_NAME } from '../release/checksums.js'
import { displayUrl } from '../util/display-url.js'
import { fetchBody, writeFailure, type DownloadOptions } from '../download/download.js'
import { ActionError, describeError } from '../util/errors.js'
import { HashedFeed } from './shared-hash.js'
import { appender } from './write-all.js'
import { bytes, rate, seconds } from '../util/format.js'
import { foreignStandardName, requiredFiles, type ReleaseArchive } from '../release/variants.js'

export interface ArchiveFile {
  name: string
  size: number
  sha256: string
}

/** The verified, extracted files of one archive, in a directory this run may read and link. */
export interface ArchiveContent {
  archive: ReleaseArchive
  dir: string
  files: ArchiveFile[]
  /** Newest entry time inside the archive, in ms since the epoch. */
  newestMtime: number
  cached: boolean
}

export interface FetchOptions {
  url: string
  timeoutMs: number
  /** A private directory of this run where staging copies may be made. */
  workDir: string
  /** Sent as the Authorization header (credentials given in download-url). */
  authorization?: string
}

/**
 * What one archive may inflate to: hook's archives hold compressed kernels, initramfs and dtbs,
 * so they inflate about 1:1. Checked as the bytes arrive, against the compressed bytes received
 * so far, so a small archive that inflates to gigabytes stops within the allowance.
 */
export const INFLATE_FACTOR = 4
export const INFLATE_ALLOWANCE = 16 << 20

/** Longest file name most file systems accept (NAME_MAX). */
const NAME_MAX = 255

export async function fetchArchive(
  archive: ReleaseArchive,
  opts: FetchOptions
): Promise<ArchiveContent> {
  const hit = await fromCache(archive)
  if (hit) return hit
  const started = Date.now()
  const download: DownloadOptions = { what: archive.asset, timeoutMs: opts.timeoutMs }
  if (opts.authorization !== undefined) download.authorization = opts.authorization
  // Each attempt starts from an empty staging directory of its own and removes it on failure,
  // so a broken or short download that is retried leaves nothing half-written behind.
  const { content, size } = await fetchBody(opts.url, download, body =>
    unpack(body, archive, opts.url, path.join(opts.workDir, `${archive.id}-${randomUUID()}`))
  )
  const ms = Date.now() - started
  const total = content.files.reduce((sum, f) => sum + f.size, 0)
  core.info(
    `${archive.asset}: downloaded ${bytes(size)} in ${seconds(ms)} (${rate(size, ms)}), sha512 verified and ${content.files.length} files (${bytes(total)}) extracted as it arrived`
  )
  return await saveToCache(content)
}

/**
 * One pass over the response body: every byte goes into the SHA-512 and, while nothing is wrong,
 * on into gunzip, tar-stream and the staging files. Nothing is used before the digest matches:
 * a mismatch discards the staging directory. Once extraction fails (an unsafe entry, the inflation
 * bound) nothing more is written, but the rest is still hashed: a digest that does not match
 * checksum.txt is the real cause and is reported first.
 */
async function unpack(
  body: Readable,
  archive: ReleaseArchive,
  url: string,
  dir: string
): Promise<{ content: ArchiveContent; size: number }> {
  await mkdir(dir, { recursive: true })
  let received = 0
  const inflate = createGunzip({ chunkSize: INFLATE_CHUNK })
  const watch = new TarWatch(archive, () => received)
  const extractor = tar.extract()
  const files = extractEntries(extractor, watch, archive, dir)
  let failed: unknown
  const extraction = pipeline(inflate, watch, extractor).catch((err: unknown) => {
    failed ??= err
  })
  // Gunzip runs on another thread, and every piece of input is one hand-over to it and back,
  // which on a VM costs this thread tens of microseconds: the body reaches it (and the SHA-512)
  // half a megabyte at a time. Once the extraction has failed, the bytes are only hashed.
  const closed = new Promise(resolve => inflate.once('close', resolve))
  const feed = new HashedFeed('sha512', bytes =>
    failed === undefined
      ? Promise.race([new Promise(resolve => inflate.write(bytes, resolve)), closed])
      : undefined
  )
  try {
    let digest: string
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length
        const full = feed.push(chunk)
        if (full) await full
      }
      digest = await feed.digest()
    } catch (err) {
      feed.discard()
      inflate.destroy()
      throw err
    }
    if (digest !== archive.sha512) {
      inflate.destroy()
      throw new ActionError(
        `${archive.asset} failed verification: checksum.txt says sha512 ${archive.sha512} but ${displayUrl(url)} gave ${digest}; the download is corrupt or the release changed, retry`
      )
    }
    inflate.end()
    await extraction
    if (failed !== undefined) throw explainExtraction(failed, archive, dir)
    const content = await finish(archive, dir, files, watch.newestMtime)
    return { content, size: received }
  } catch (err) {
    await extraction
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

function explainExtraction(err: unknown, archive: ReleaseArchive, dir: string): Error {
  if (err instanceof ActionError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (typeof (err as NodeJS.ErrnoException).syscall === 'string') {
    const failure = writeFailure(err, dir, `the files of ${archive.asset}`)
    if (failure instanceof ActionError) return failure
    return new ActionError(
      `could not write the files of ${archive.asset} into ${dir} (${code ?? describeError(err)}): ${describeError(err)}`,
      { cause: err }
    )
  }
  return new ActionError(
    `${archive.asset} is not a valid gzip tar archive: ${describeError(err)}`,
    {
      cause: err
    }
  )
}

/** What a complete archive must hold, checked once every entry is written. */
async function finish(
  archive: ReleaseArchive,
  dir: string,
  files: ArchiveFile[],
  newestMtime: number
): Promise<ArchiveContent> {
  for (const required of requiredFiles(archive.id)) {
    const file = files.find(f => f.name === required)
    if (!file) {
      throw new ActionError(
        `${archive.asset} has no ${required}: a hook archive must carry vmlinuz-${archive.id} and initramfs-${archive.id}`
      )
    }
    if (file.size === 0) {
      throw new ActionError(
        `${archive.asset} holds an empty ${required} (0 bytes): a kernel or initramfs cannot be empty; the release is broken, use another hook-version`
      )
    }
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { archive, dir, files, newestMtime, cached: false }
}

const BLOCK = 512
/** Gunzip's output pieces: as large as its input (src/archives/shared-hash.ts's FEED), fewer hand-overs. */
const INFLATE_CHUNK = 512 << 10

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
class TarWatch extends Transform {
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

/**
 * Writes the entries of an archive that must hold only regular files at its root, refusing
 * anything else before it is written: hook archives never contain directories or links, so
 * anything else is damage or an attack. Every file is hashed as it is written, so its sha256
 * costs no second read.
 */
function extractEntries(
  extractor: tar.Extract,
  watch: TarWatch,
  archive: ReleaseArchive,
  dir: string
): ArchiveFile[] {
  const files: ArchiveFile[] = []
  const seen = new Set<string>()
  const unsafe = (what: string): ActionError =>
    new ActionError(
      `${archive.asset} is unsafe: ${what}; a hook archive holds only regular files at its root, refusing to use it`
    )
  extractor.on('entry', (header, stream, next) => {
    // Input ending mid-entry destroys the entry stream, possibly while this handler still awaits
    // before reading it; the extractor fails the pipeline with the same error, so here it is only
    // kept from escaping as an uncaught exception.
    stream.on('error', () => undefined)
    const handle = async (): Promise<void> => {
      const offset = (stream as unknown as { offset?: unknown }).offset
      if (typeof offset !== 'number') throw new Error('internal: tar-stream gave no entry offset')
      const refusal = watch.check(offset, header)
      if (refusal !== undefined) throw unsafe(refusal)
      const name = header.name.replace(/^(\.\/)+/, '')
      if (header.type === 'directory' && (name === '' || name === '.' || name === './')) {
        stream.resume()
        return
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        const link = header.linkname ? ` -> ${header.linkname}` : ''
        throw unsafe(`entry ${JSON.stringify(header.name)} is a ${header.type}${link}`)
      }
      if (name.includes('/') || name === '..' || path.isAbsolute(header.name)) {
        throw unsafe(`entry ${JSON.stringify(header.name)} is not at the archive root`)
      }
      if (!SAFE_NAME.test(name)) {
        throw unsafe(
          `entry ${JSON.stringify(header.name)} has characters outside A-Z a-z 0-9 . _ -`
        )
      }
      if (Buffer.byteLength(name) > NAME_MAX) throw nameTooLong(archive, name)
      if (name === RECORD || seen.has(name)) {
        throw unsafe(`entry ${JSON.stringify(name)} appears twice or is reserved`)
      }
      const foreign = foreignStandardName(archive.id, name)
      if (foreign !== undefined) {
        throw new ActionError(
          `${archive.asset} carries ${name}, a standard name of ${foreign} boot files that the bundle makes itself: an archive may carry a standard name only as its own ${requiredFiles(archive.id).join(' or ')}; refusing it`
        )
      }
      seen.add(name)
      let size = 0
      const file = path.join(dir, name)
      const out = await open(file, 'wx', 0o644).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') throw nameTooLong(archive, name)
        throw err
      })
      // A failed write (a full disk) lets the entry drain rather than break off: breaking off
      // would close the extractor without its error, and the cause would be lost.
      let failed: unknown
      // Written and hashed (sha256, on the hashing thread) half a megabyte at a time: each write is
      // a hand-over to another thread too.
      const append = appender(out)
      const feed = new HashedFeed('sha256', bytes =>
        failed === undefined ? append(bytes).catch((err: unknown) => (failed ??= err)) : undefined
      )
      let sha256: string
      try {
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
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
        await out.close()
      }
      if (failed !== undefined) throw failed
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

function nameTooLong(archive: ReleaseArchive, name: string): ActionError {
  return new ActionError(
    `${archive.asset} has an entry whose name is ${Buffer.byteLength(name)} bytes long (${JSON.stringify(name.slice(0, 32) + '…')}), too long for a file name on the runner (at most ${NAME_MAX}): a hook archive holds only vmlinuz-<id>, initramfs-<id> and dtbs-<id>.tar.gz; refusing it`
  )
}
