import { ActionError } from '../util/errors.js'
import { compare } from '../util/compare.js'
import {
  ALL_SUFFIX,
  ARMBIAN_BOARD,
  type ReleaseArchive,
  type VariantDefinition
} from './catalog.js'

/** A standard boot-file name and the bare name of the file it points at. */
export interface LinkPlan {
  name: string
  target: string
}

export interface BundlePlan {
  variant: string
  archives: ReleaseArchive[]
  /** The `hook-<id>-efi-initrd.iso` images to add (input `iso`); see isos.ts. */
  isos: ReleaseArchive[]
  links: LinkPlan[]
}

const VARIANT_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

const STANDARD_ARCHES = { arm: ['arm64', 'aarch64'], x86: ['x86_64'] } as const
const BOOT_FILE_KINDS = ['vmlinuz', 'initramfs'] as const

/**
 * Turns a requested variant into its definition: its canonical name or an alias (the
 * `armbian-<board>-<branch>` form of a one-branch board); anything else is an error that lists
 * what exists.
 */
export function resolveVariant(
  requested: string,
  variants: VariantDefinition[]
): VariantDefinition {
  const names = variants.map(v => v.name)
  if (!VARIANT_NAME.test(requested)) {
    throw new ActionError(
      `variant ${JSON.stringify(requested)} is not a variant name (lower-case letters, digits and "-"); this release offers: ${names.join(', ')}`
    )
  }
  const found = variants.find(v => v.name === requested || (v.aliases ?? []).includes(requested))
  if (found) return found
  const all = requested.endsWith(ALL_SUFFIX) ? ALL_SUFFIX : ''
  const base = requested.slice(0, requested.length - all.length)
  // The short name of a board that is named by its ids here.
  const perBranch = variants.filter(v => {
    const m = isBoard(v) ? ARMBIAN_BOARD.exec(v.arm) : null
    return m !== null && `armbian-${m[1]}` === base && v.name === v.arm + all
  })
  if (perBranch.length > 1) {
    throw new ActionError(
      `variant ${requested} is ambiguous: that board has several kernel branches; use one of: ${perBranch.map(v => v.name).join(', ')}`
    )
  }
  if (perBranch.length === 1) {
    throw new ActionError(
      `variant ${requested} is not a name in this release: another board's name collides with it, so that board is offered as ${perBranch[0]!.name}; use that`
    )
  }
  throw new ActionError(
    `variant ${JSON.stringify(requested)} is not offered by this release; available: ${names.join(', ')}`
  )
}

function isBoard(v: VariantDefinition): boolean {
  return ARMBIAN_BOARD.test(v.arm) && !v.arm.startsWith('armbian-uefi-')
}

/** What a bundle needs: the archives to fetch and the standard-name links to make. */
export function planBundle(variant: VariantDefinition, archives: ReleaseArchive[]): BundlePlan {
  const byId = new Map(archives.map(a => [a.id, a]))
  const chosen = variant.archives.map(id => {
    const archive = byId.get(id)
    if (!archive) throw new Error(`internal: variant ${variant.name} needs unknown archive ${id}`)
    return archive
  })
  const realFiles = new Set(chosen.flatMap(a => BOOT_FILE_KINDS.map(kind => `${kind}-${a.id}`)))
  const links: LinkPlan[] = []
  for (const side of ['arm', 'x86'] as const) {
    for (const arch of STANDARD_ARCHES[side]) {
      for (const kind of BOOT_FILE_KINDS) {
        const name = `${kind}-${arch}`
        const target = `${kind}-${variant[side]}`
        if (name !== target && !realFiles.has(name)) links.push({ name, target })
      }
    }
  }
  return {
    variant: variant.name,
    archives: chosen,
    isos: [],
    links: links.sort((a, b) => compare(a.name, b.name))
  }
}

/**
 * Every name a file of this release can have at a bundle root, known before anything is
 * downloaded: the standard names, each archive's files by hook's naming (kernel, initramfs,
 * dtbs tarball, its ISO) and every asset of the release.
 */
export function releaseFileNames(archives: ReleaseArchive[]): Set<string> {
  const names = new Set<string>(['checksum.txt'])
  for (const arches of Object.values(STANDARD_ARCHES))
    for (const arch of arches) for (const kind of BOOT_FILE_KINDS) names.add(`${kind}-${arch}`)
  for (const a of archives) {
    for (const name of [
      a.asset,
      ...requiredFiles(a.id),
      `dtbs-${a.id}.tar.gz`,
      `hook-${a.id}-efi-initrd.iso`
    ])
      names.add(name)
  }
  return names
}

/** The files an archive must contain, by hook's naming. */
export function requiredFiles(id: string): string[] {
  return BOOT_FILE_KINDS.map(kind => `${kind}-${id}`)
}

/**
 * The architecture whose standard name `name` is, when archive `id` may not carry it. The bundle
 * makes the standard names itself, as links to the variant's chosen kernel and initramfs; an
 * archive may hold one only as its own boot file, as hook's default flavor does (vmlinuz-x86_64
 * in hook_x86_64.tar.gz), or it would be published as that architecture's boot file.
 */
export function foreignStandardName(id: string, name: string): string | undefined {
  if (requiredFiles(id).includes(name)) return undefined
  for (const side of ['arm', 'x86'] as const) {
    for (const arch of STANDARD_ARCHES[side]) {
      if (BOOT_FILE_KINDS.some(kind => name === `${kind}-${arch}`)) return STANDARD_ARCHES[side][0]
    }
  }
  return undefined
}
