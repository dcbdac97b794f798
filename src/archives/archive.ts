import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import * as path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import * as core from '@actions/core'
import * as tar from 'tar-stream'
import { fetchBody, type DownloadOptions } from '../download/fetch-body.js'
import { writeFailure } from '../download/download.js'
import type { ReleaseArchive } from '../release/catalog.js'
import { requiredFiles } from '../release/variants.js'
import { displayUrl } from '../util/display-url.js'
import { buffered } from '../util/gc.js'
import { ActionError, describeError } from '../util/errors.js'
import { bytes, rate, seconds } from '../util/format.js'
import { fromCache, saveToCache } from './archive-cache.js'
import type { ArchiveContent, ArchiveFile, FetchOptions } from './content.js'
import { extractEntries } from './extract.js'
import { HashedFeed } from './shared-hash.js'
import { TarWatch } from './tar-watch.js'

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
        buffered(chunk.length)
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

/** Gunzip's output pieces: as large as its input (src/archives/shared-hash.ts's FEED), fewer hand-overs. */
const INFLATE_CHUNK = 512 << 10
