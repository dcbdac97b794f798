import { ActionError } from '../util/errors.js'
import { compare } from '../util/compare.js'
import type { ReleaseArchive, VariantDefinition } from './catalog.js'

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
