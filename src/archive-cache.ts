import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import type { ArchiveContent, ArchiveFile } from './archive.js'
import { moveIntoCache } from './cache.js'
import { describeError } from './errors.js'
import type { ReleaseArchive } from './variants.js'

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

/**
 * The tool cache is keyed by content, never by release tag: hook's `latest` is re-uploaded on
 * every merge, so a tag-keyed entry would serve stale bytes. A semver prerelease carries the
 * SHA-512 (first 256 bits; the full digest is checked against the record on every hit).
 */
function cacheKey(archive: ReleaseArchive): { tool: string; version: string } {
  return { tool: `hook_${archive.id}`, version: `0.0.0-sha512-${archive.sha512.slice(0, 64)}` }
}

export async function fromCache(archive: ReleaseArchive): Promise<ArchiveContent | undefined> {
  const { tool, version } = cacheKey(archive)
  const dir = tc.find(tool, version, CACHE_ARCH)
  if (dir === '') return undefined
  try {
    const record = JSON.parse(await readFile(path.join(dir, RECORD), 'utf8')) as CacheRecord
    if (record.sha512 !== archive.sha512) throw new Error('its record names another sha512')
    for (const f of record.files) {
      const s = await stat(path.join(dir, f.name))
      if (!s.isFile() || s.size !== f.size)
        throw new Error(`${f.name} is not the recorded ${f.size} bytes`)
    }
    core.info(
      `${archive.asset}: tool cache hit (sha512 ${archive.sha512.slice(0, 16)}…), ${record.files.length} files, no download`
    )
    return { archive, dir, files: record.files, newestMtime: record.newestMtime, cached: true }
  } catch (err) {
    core.warning(
      `${archive.asset}: ignoring the damaged tool cache entry ${dir} (${describeError(err)}); downloading again`
    )
    // Unmarked, it is no longer an entry: this run's verified copy replaces it.
    await rm(`${dir}.complete`, { force: true })
    return undefined
  }
}

/** Moves the verified files into the tool cache; returns where the bundle should link from. */
export async function saveToCache(content: ArchiveContent): Promise<ArchiveContent> {
  const { tool, version } = cacheKey(content.archive)
  const record: CacheRecord = {
    asset: content.archive.asset,
    sha512: content.archive.sha512,
    files: content.files,
    newestMtime: content.newestMtime
  }
  try {
    await writeFile(path.join(content.dir, RECORD), `${JSON.stringify(record, null, 2)}\n`)
    const cached = await moveIntoCache(content.dir, tool, version, CACHE_ARCH)
    return cached === undefined ? content : { ...content, dir: cached }
  } catch (err) {
    // The bundle is built from this run's own verified copy; a cache that cannot be written
    // only costs the next run a download.
    core.warning(
      `${content.archive.asset}: could not save to the tool cache: ${describeError(err)}`
    )
    return content
  }
}
