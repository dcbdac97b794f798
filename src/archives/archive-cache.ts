import { lstat, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import type { ArchiveContent, ArchiveFile } from './content.js'
import { moveIntoCache } from './tool-cache.js'
import { SAFE_NAME } from '../release/checksums.js'
import { describeError } from '../util/errors.js'
import { sha256OfFile } from './file-digest.js'
import type { ReleaseArchive } from '../release/catalog.js'
import { requiredFiles } from '../release/variants.js'

/** Written next to the extracted files in the tool cache, after verification. */
interface CacheRecord {
  asset: string
  sha512: string
  files: ArchiveFile[]
  newestMtime: number
}

/** The record's file name inside an entry; no archive entry may carry it. */
export const RECORD = '.hook-archive.json'
const CACHE_ARCH = 'any'

/** What a release asset is cached as: its tool name, and the files a usable entry must hold. */
export interface CacheKind {
  tool: string
  required: string[]
}

/** Whether the tool cache in `dir` holds any hook archive (whose files a hit re-hashes). */
export async function holdsArchives(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [])
  return names.some(name => name.startsWith('hook_'))
}

/** A hook archive: `hook_<id>`, holding at least its kernel and initramfs. */
export function archiveKind(archive: ReleaseArchive): CacheKind {
  return { tool: `hook_${archive.id}`, required: requiredFiles(archive.id) }
}

/**
 * The tool cache is keyed by content, never by release tag: hook's `latest` is re-uploaded on
 * every merge, so a tag-keyed entry would serve stale bytes. A semver prerelease carries the
 * SHA-512 (first 256 bits; the full digest is checked against the record on every hit).
 */
function cacheVersion(asset: ReleaseArchive): string {
  return `0.0.0-sha512-${asset.sha512.slice(0, 64)}`
}

/**
 * Serves an entry only after proving it holds the bytes recorded when the archive was verified:
 * on a self-hosted runner every job of every repository can write the tool cache, and a later
 * step of a job can write through the bundle's hard links into it. Anything else evicts it.
 */
export async function fromCache(
  archive: ReleaseArchive,
  kind: CacheKind = archiveKind(archive)
): Promise<ArchiveContent | undefined> {
  const dir = tc.find(kind.tool, cacheVersion(archive), CACHE_ARCH)
  if (dir === '') return undefined
  let record: CacheRecord
  try {
    record = await verifyEntry(dir, archive, kind)
  } catch (err) {
    await evict(archive, dir, describeError(err))
    return undefined
  }
  core.info(
    `${archive.asset}: tool cache hit (sha512 ${archive.sha512.slice(0, 16)}…), ${record.files.length} files, sha256 re-verified, no download`
  )
  return { archive, dir, files: record.files, newestMtime: record.newestMtime, cached: true }
}

async function verifyEntry(
  dir: string,
  archive: ReleaseArchive,
  kind: CacheKind
): Promise<CacheRecord> {
  const text = await readFile(path.join(dir, RECORD), 'utf8').catch((err: unknown) => {
    throw new Error(`its record cannot be read (${code(err)})`)
  })
  const record = parseRecord(text, archive)
  const names = new Set(record.files.map(f => f.name))
  for (const name of kind.required)
    if (!names.has(name)) throw new Error(`its record lacks ${name}`)
  for (const name of await readdir(dir)) {
    if (name !== RECORD && !names.has(name)) throw new Error(`it holds an unexpected ${name}`)
  }
  await Promise.all(
    record.files.map(async f => {
      const where = path.join(dir, f.name)
      const s = await lstat(where).catch(() => undefined)
      if (!s) throw new Error(`${f.name} is missing`)
      if (!s.isFile() || s.size !== f.size)
        throw new Error(`${f.name} is not the recorded ${f.size} bytes`)
      const digest = await sha256OfFile(where).catch((err: unknown) => {
        throw new Error(`${f.name} cannot be read (${describeError(err)})`)
      })
      if (digest.sha256 !== f.sha256 || digest.size !== f.size)
        throw new Error(`${f.name} no longer has the recorded sha256 ${f.sha256}`)
    })
  )
  return record
}

/** The record is data anyone could have written: every field is checked before use. */
function parseRecord(text: string, archive: ReleaseArchive): CacheRecord {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error('its record is not JSON')
  }
  const r = parsed as Partial<CacheRecord> | null
  if (!r || r.asset !== archive.asset || r.sha512 !== archive.sha512)
    throw new Error('its record names another asset or sha512')
  if (typeof r.newestMtime !== 'number' || !Number.isFinite(r.newestMtime))
    throw new Error('its record has no newestMtime')
  const files = r.files
  const valid = (f: Partial<ArchiveFile>): boolean =>
    typeof f.name === 'string' &&
    SAFE_NAME.test(f.name) &&
    f.name !== RECORD &&
    Number.isSafeInteger(f.size) &&
    (f.size ?? -1) >= 0 &&
    typeof f.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(f.sha256)
  if (
    !Array.isArray(files) ||
    files.length === 0 ||
    !files.every(valid) ||
    new Set(files.map(f => f.name)).size !== files.length
  )
    throw new Error('its record lists no valid files')
  return {
    asset: r.asset,
    sha512: r.sha512,
    newestMtime: r.newestMtime,
    files: files.map(f => ({ name: f.name, size: f.size, sha256: f.sha256 }))
  }
}

/**
 * Unmarked, the entry is no longer one (tc.find looks for the marker), and this run's verified
 * copy replaces it. An entry this job may not remove (another user's, a read-only cache) must not
 * fail this run or every later one: the run goes on with its own verified copy.
 */
async function evict(archive: ReleaseArchive, dir: string, why: string): Promise<void> {
  try {
    await rm(`${dir}.complete`, { force: true })
  } catch (err) {
    core.warning(
      `${archive.asset}: the damaged tool cache entry ${dir} (${why}) cannot be removed (${code(err)}); downloading again and using this run's verified copy: remove the entry or let the runner's user write the tool cache`
    )
    return
  }
  core.warning(
    `${archive.asset}: ignoring the damaged tool cache entry ${dir} (${why}); downloading again`
  )
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? describeError(err)
}

/** Moves the verified files into the tool cache; returns where the bundle should link from. */
export async function saveToCache(
  content: ArchiveContent,
  kind: CacheKind = archiveKind(content.archive)
): Promise<ArchiveContent> {
  const record: CacheRecord = {
    asset: content.archive.asset,
    sha512: content.archive.sha512,
    files: content.files,
    newestMtime: content.newestMtime
  }
  try {
    await writeFile(path.join(content.dir, RECORD), `${JSON.stringify(record, null, 2)}\n`)
    const cached = await moveIntoCache(
      content.dir,
      kind.tool,
      cacheVersion(content.archive),
      CACHE_ARCH
    )
    return cached === undefined ? content : { ...content, dir: cached }
  } catch (err) {
    // The bundle is built from this run's own verified copy; a cache that cannot be written
    // only costs the next run a download.
    core.warning(
      `${content.archive.asset}: could not save to the tool cache: ${describeError(err)}; this run uses its own verified copy, the next one downloads again`
    )
    return content
  }
}
