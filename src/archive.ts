import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, mkdir, open, rm, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import * as core from '@actions/core'
import * as tar from 'tar-stream'
import { RECORD, fromCache, saveToCache } from './archive-cache.js'
import { SAFE_NAME } from './checksums.js'
import { download } from './download.js'
import { ActionError, describeError } from './errors.js'
import { bytes, rate, seconds } from './format.js'
import { requiredFiles, type ReleaseArchive } from './variants.js'

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
  /** Authorization header for the release server (credentials from download-url). */
  authorization?: string
}

export async function fetchArchive(
  archive: ReleaseArchive,
  opts: FetchOptions
): Promise<ArchiveContent> {
  const hit = await fromCache(archive)
  if (hit) return hit
  const started = Date.now()
  const file = await download(opts.url, archive.asset, opts.timeoutMs, opts.authorization)
  const staging = path.join(opts.workDir, `${archive.id}-${randomUUID()}`)
  try {
    const { size } = await stat(file)
    const downloaded = Date.now()
    // Hashing and extracting read the bytes together while they are hot in the page cache; zlib
    // inflates on libuv's thread pool (the other core) while this thread hashes. Nothing is used
    // before the digest matches: the files go to a private staging directory that a mismatch
    // discards, and a mismatch is reported before whatever extracting unverified bytes raised.
    const [digest, extraction] = await Promise.allSettled([
      sha512File(file),
      extract(file, archive, staging)
    ])
    if (digest.status === 'rejected') throw digest.reason
    if (digest.value !== archive.sha512) {
      throw new ActionError(
        `${archive.asset} failed verification: checksum.txt says sha512 ${archive.sha512} but ${opts.url} gave ${digest.value}; the download is corrupt or the release changed, retry`
      )
    }
    if (extraction.status === 'rejected') throw extraction.reason
    const content = extraction.value
    const total = content.files.reduce((sum, f) => sum + f.size, 0)
    core.info(
      `${archive.asset}: downloaded ${bytes(size)} in ${seconds(downloaded - started)} (${rate(size, downloaded - started)}), ` +
        `sha512 verified and ${content.files.length} files (${bytes(total)}) extracted in ${seconds(Date.now() - downloaded)}`
    )
    return await saveToCache(content)
  } catch (err) {
    await rm(staging, { recursive: true, force: true })
    throw err
  } finally {
    await rm(file, { force: true })
  }
}

async function sha512File(file: string): Promise<string> {
  const hash = createHash('sha512')
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash)
  return hash.digest('hex')
}

/**
 * Extracts an archive that must hold only regular files at its root, refusing anything else
 * before it is written: hook archives never contain directories or links, so anything else is
 * damage or an attack. Every file is hashed as it is written, so its sha256 costs no second read.
 */
async function extract(
  file: string,
  archive: ReleaseArchive,
  dir: string
): Promise<ArchiveContent> {
  await mkdir(dir, { recursive: true })
  const files: ArchiveFile[] = []
  const seen = new Set<string>()
  let newestMtime = 0
  const unsafe = (what: string): ActionError =>
    new ActionError(
      `${archive.asset} is unsafe: ${what}; a hook archive holds only regular files at its root, refusing to use it`
    )
  const extractor = tar.extract()
  extractor.on('entry', (header, stream, next) => {
    // Input ending mid-entry destroys the entry stream, possibly while this handler still awaits
    // before reading it; the extractor fails the pipeline with the same error, so here it is only
    // kept from escaping as an uncaught exception.
    stream.on('error', () => undefined)
    const handle = async (): Promise<void> => {
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
      if (name === RECORD || seen.has(name)) {
        throw unsafe(`entry ${JSON.stringify(name)} appears twice or is reserved`)
      }
      seen.add(name)
      const hash = createHash('sha256')
      let size = 0
      const out = await open(path.join(dir, name), 'wx', 0o644)
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk)
          size += chunk.length
          await out.write(chunk)
        }
      } finally {
        await out.close()
      }
      // Read-only: the bundle links these files, so a later step writing to the bundle cannot
      // silently change what the tool cache serves to the next run.
      await chmod(path.join(dir, name), 0o444)
      files.push({ name, size, sha256: hash.digest('hex') })
      if (header.mtime) newestMtime = Math.max(newestMtime, header.mtime.getTime())
    }
    handle().then(
      () => next(),
      (err: unknown) => {
        stream.resume()
        next(err instanceof Error ? err : new Error(String(err)))
      }
    )
  })
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 256 << 10 }),
      extractor
    )
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    if (err instanceof ActionError) throw err
    throw new ActionError(
      `${archive.asset} is not a valid gzip tar archive: ${describeError(err)}`,
      { cause: err }
    )
  }
  for (const required of requiredFiles(archive.id)) {
    if (!seen.has(required)) {
      await rm(dir, { recursive: true, force: true })
      throw new ActionError(
        `${archive.asset} has no ${required}: a hook archive must carry vmlinuz-${archive.id} and initramfs-${archive.id}`
      )
    }
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { archive, dir, files, newestMtime, cached: false }
}
