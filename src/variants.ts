import { ActionError } from './errors.js'

/** One `hook_<id>.tar.gz` the release offers, with the SHA-512 its checksum.txt gives. */
export interface ReleaseArchive {
  id: string
  asset: string
  sha512: string
}

/** A standard boot-file name and the bare name of the file it points at. */
export interface LinkPlan {
  name: string
  target: string
}

export interface VariantDefinition {
  /** Canonical name, used in tags and outputs. */
  name: string
  /** Archive ids, in the order their files are laid out. */
  archives: string[]
  /** Archive id whose kernel/initramfs become the arm64/aarch64 names. */
  arm: string
  /** Archive id whose kernel/initramfs become the x86_64 names. */
  x86: string
}

export interface BundlePlan {
  variant: string
  archives: ReleaseArchive[]
  links: LinkPlan[]
}

// Flavor ids as hook's build system names its outputs (HOOK-RELEASES.md). Boards are not listed
// here on purpose: they are read from the release.
const DEFAULT_X86 = 'x86_64'
const DEFAULT_ARM = 'aarch64'
const LTS_X86 = 'latest-lts-x86_64'
const LTS_ARM = 'latest-lts-aarch64'
const UEFI_ARM = 'armbian-uefi-arm64-edge'
const UEFI_X86 = 'armbian-uefi-x86-edge'
const ALL_SUFFIX = '-all'

const ARCHIVE_ASSET = /^hook_(.+)\.tar\.gz$/
// armbian-<board>-<branch>: the branch is the last dash-separated word, the board the rest.
const ARMBIAN_BOARD = /^armbian-([a-z0-9]+(?:-[a-z0-9]+)*)-([a-z0-9]+)$/
const VARIANT_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

const STANDARD_ARCHES = { arm: ['arm64', 'aarch64'], x86: ['x86_64'] } as const
const BOOT_FILE_KINDS = ['vmlinuz', 'initramfs'] as const

/** Every `hook_<id>.tar.gz` listed in checksum.txt; `.iso` and other assets are not bundles. */
export function releaseArchives(checksums: Map<string, string>, source: string): ReleaseArchive[] {
  const archives: ReleaseArchive[] = []
  for (const [asset, sha512] of checksums) {
    const m = ARCHIVE_ASSET.exec(asset)
    if (m) archives.push({ id: m[1]!, asset, sha512 })
  }
  if (archives.length === 0) {
    throw new ActionError(`${source} lists no hook_<id>.tar.gz archive: this is not a hook release`)
  }
  return archives.sort((a, b) => compare(a.id, b.id))
}

/** The variants a release offers: each base variant whose archives are all present, plus its -all form. */
export function catalog(ids: Iterable<string>): VariantDefinition[] {
  const have = new Set(ids)
  const bases: VariantDefinition[] = []
  const add = (name: string, arm: string, x86: string): void => {
    if (have.has(arm) && have.has(x86)) {
      bases.push({ name, archives: arm === x86 ? [arm] : [arm, x86], arm, x86 })
    }
  }
  add('default', DEFAULT_ARM, DEFAULT_X86)
  add('lts', LTS_ARM, LTS_X86)
  add('armbian-uefi', UEFI_ARM, UEFI_X86)
  const boards = new Map<string, string[]>()
  for (const id of have) {
    const m = ARMBIAN_BOARD.exec(id)
    if (!m || id.startsWith('armbian-uefi-')) continue
    const board = m[1]!
    boards.set(board, [...(boards.get(board) ?? []), id])
  }
  for (const [board, boardIds] of boards) {
    // One branch: the short name. Several: one variant per branch and no short name, so a tag
    // never silently switches branch when hook adds one.
    for (const id of boardIds) add(boardIds.length === 1 ? `armbian-${board}` : id, id, UEFI_X86)
  }
  const everything = [...have].sort(compare)
  const withAll = bases.flatMap(base => [
    base,
    {
      ...base,
      name: base.name + ALL_SUFFIX,
      // The default flavor's files already carry the standard names; next to another flavor
      // they would collide with its links.
      archives: unique([
        ...base.archives,
        ...everything.filter(
          id => base.name === 'default' || (id !== DEFAULT_X86 && id !== DEFAULT_ARM)
        )
      ])
    }
  ])
  return withAll.sort((a, b) => compare(a.name, b.name))
}

/**
 * Turns a requested variant into its definition. Accepts the canonical name and, for a board
 * with one branch, the `armbian-<board>-<branch>` form; anything else is an error that lists
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
  const all = requested.endsWith(ALL_SUFFIX) ? ALL_SUFFIX : ''
  const base = requested.slice(0, requested.length - all.length)
  const found =
    variants.find(v => v.name === requested) ??
    variants.find(v => isBoard(v) && v.arm === base && v.name === baseName(v) + all)
  if (found) return found
  const branches = variants.filter(
    v =>
      isBoard(v) &&
      v.name === v.arm + all &&
      v.arm.startsWith(`${base}-`) &&
      !v.arm.slice(base.length + 1).includes('-')
  )
  if (branches.length > 1) {
    throw new ActionError(
      `variant ${requested} is ambiguous: that board has several kernel branches; use one of: ${branches.map(v => v.name).join(', ')}`
    )
  }
  throw new ActionError(
    `variant ${JSON.stringify(requested)} is not offered by this release; available: ${names.join(', ')}`
  )
}

function isBoard(v: VariantDefinition): boolean {
  return ARMBIAN_BOARD.test(v.arm) && !v.arm.startsWith('armbian-uefi-')
}

function baseName(v: VariantDefinition): string {
  return v.name.endsWith(ALL_SUFFIX) ? v.name.slice(0, -ALL_SUFFIX.length) : v.name
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
    links: links.sort((a, b) => compare(a.name, b.name))
  }
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

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

/** Byte-wise order, independent of the runner's locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
