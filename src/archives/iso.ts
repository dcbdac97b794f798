import { randomUUID } from 'node:crypto'
import { chmod, mkdir, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { downloadFile } from '../download/download.js'
import type { DownloadOptions } from '../download/fetch-body.js'
import type { ReleaseIso } from '../release/isos.js'
import { displayUrl } from '../util/display-url.js'
import { ActionError } from '../util/errors.js'
import { bytes, rate, seconds } from '../util/format.js'
import { fromCache, saveToCache, type CacheKind } from './archive-cache.js'
import type { ArchiveContent, FetchOptions } from './content.js'
import { sha256OfFile } from './file-digest.js'

function isoKind(iso: ReleaseIso): CacheKind {
  return { tool: `hook-iso_${iso.id}`, required: [iso.asset] }
}

/** Downloads (or takes from the tool cache) one ISO, verified; shaped like an archive's content. */
export async function fetchIso(iso: ReleaseIso, opts: FetchOptions): Promise<ArchiveContent> {
  const kind = isoKind(iso)
  const hit = await fromCache(iso, kind)
  if (hit) return hit
  const started = Date.now()
  const staging = path.join(opts.workDir, `${iso.id}-iso-${randomUUID()}`)
  try {
    await mkdir(staging, { recursive: true })
    const download: DownloadOptions & { hash: 'sha512'; dir: string } = {
      what: iso.asset,
      timeoutMs: opts.timeoutMs,
      hash: 'sha512',
      dir: staging
    }
    if (opts.authorization !== undefined) download.authorization = opts.authorization
    const { file, size, digest } = await downloadFile(opts.url, download)
    if (digest !== iso.sha512) {
      throw new ActionError(
        `${iso.asset} failed verification: checksum.txt says sha512 ${iso.sha512} but ${displayUrl(opts.url)} gave ${digest}; the download is corrupt or the release changed, retry`
      )
    }
    const placed = path.join(staging, iso.asset)
    await rename(file, placed)
    // Read-only, as the archives' files: the bundle hard-links it from the tool cache.
    await chmod(placed, 0o444)
    // For the files output; on a worker thread, while other downloads use this one.
    const { sha256 } = await sha256OfFile(placed)
    const ms = Date.now() - started
    core.info(
      `${iso.asset}: ${bytes(size)} downloaded and sha512 verified in ${seconds(ms)} (${rate(size, ms)})`
    )
    const content: ArchiveContent = {
      archive: iso,
      dir: staging,
      files: [{ name: iso.asset, size, sha256 }],
      // An image has no entry times; the bundle's `created` stays the archives' newest.
      newestMtime: 0,
      cached: false
    }
    return await saveToCache(content, kind)
  } catch (err) {
    await rm(staging, { recursive: true, force: true })
    throw err
  }
}
