import { randomUUID } from 'node:crypto'
import { chmod, mkdir, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { ArchiveContent, FetchOptions } from './archive.js'
import { fromCache, saveToCache, type CacheKind } from './archive-cache.js'
import { displayUrl } from '../util/display-url.js'
import { downloadFile, type DownloadOptions } from '../download/download.js'
import { sha256OfFile } from './file-digest.js'
import { ActionError } from '../util/errors.js'
import { bytes, rate, seconds } from '../util/format.js'
import { compare, type ReleaseArchive, type VariantDefinition } from '../release/variants.js'

/**
 * A `hook-<ID>-efi-initrd.iso` the release offers, with the SHA-512 its checksum.txt gives. It
 * is named like an archive (`id` is the flavor's OUTPUT_ID) so that it is fetched, verified,
 * cached and placed the way an archive's files are.
 */
export type ReleaseIso = ReleaseArchive

// hook's linuxkit build names them `--name hook-<OUTPUT_ID>` with `--format iso-efi-initrd`
// (HOOK-RELEASES.md); only some flavors have one (default and LTS today), read from the release.
const ISO_ASSET = /^hook-(.+)-efi-initrd\.iso$/

/** Every `hook-<id>-efi-initrd.iso` listed in checksum.txt. */
export function releaseIsos(checksums: Map<string, string>): ReleaseIso[] {
  const isos: ReleaseIso[] = []
  for (const [asset, sha512] of checksums) {
    const m = ISO_ASSET.exec(asset)
    if (m) isos.push({ id: m[1]!, asset, sha512 })
  }
  return isos.sort((a, b) => compare(a.id, b.id))
}

/** The ISO images of a variant: one for each of its archives that has one. */
export function variantIsos(variant: VariantDefinition, isos: ReleaseIso[]): ReleaseIso[] {
  return isos.filter(iso => variant.archives.includes(iso.id))
}

/** `iso: true`: the variant's ISOs, refused before any download when it has none. */
export function planIsos(
  variant: VariantDefinition,
  isos: ReleaseIso[],
  variants: VariantDefinition[]
): ReleaseIso[] {
  const planned = variantIsos(variant, isos)
  if (planned.length === 0) {
    const having = variants.filter(v => variantIsos(v, isos).length > 0).map(v => v.name)
    throw new ActionError(
      having.length === 0
        ? `iso: true, but this release has no hook-<id>-efi-initrd.iso at all; set iso: false`
        : `iso: true, but variant ${variant.name} has no ISO image in this release; choose one of ${having.join(', ')}, or set iso: false`
    )
  }
  return planned
}

/** Tool cache entries of ISOs: the one image under its release name. */
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
