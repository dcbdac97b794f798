import { ActionError } from '../util/errors.js'

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
  /** Canonical name, used in tags and outputs; unique in its release, aliases included. */
  name: string
  /** Other names that mean this variant: the `armbian-<board>-<branch>` id of a one-branch board. */
  aliases?: string[]
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
  /** The `hook-<id>-efi-initrd.iso` images to add (input `iso`); see iso.ts. */
  isos: ReleaseArchive[]
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

/** A variant catalog, and the archive ids that could not be given a name of their own. */
export interface Catalog {
  variants: VariantDefinition[]
  /** One line per id left without a variant of its own, saying why. */
  unnamed: string[]
}

/** The variants a release offers: each base variant whose archives are all present, plus its -all form. */
export function catalog(ids: Iterable<string>): VariantDefinition[] {
  return planCatalog(ids).variants
}

/**
 * Names every variant so that one name means one set of archives, whatever ids a release
 * brings. A one-branch board is `armbian-<board>` and also answers to its id; a board with
 * several branches is named by its ids. Board and branch are split at the last dash, so ids
 * can make two boards claim one name: `armbian-foo-edge` (board foo) is also the short name of
 * board `foo-edge`, and board `foo-all`'s short name is board foo's `-all` form. Then:
 * - a short name (or its -all form) that anything else also answers to is given to nobody:
 *   those boards are named by their ids, as if they had several branches; so is a board
 *   whose one branch is called "all" (its id is its short name's -all form);
 * - an id that is still some other variant's name (only a branch literally called "all", or
 *   an id equal to a fixed flavor's name, can do that) gets no variant of its own, and the
 *   caller warns; its archive is still part of every -all bundle.
 * Every rule is symmetric, so the result does not depend on the order of the ids.
 */
export function planCatalog(ids: Iterable<string>): Catalog {
  const have = new Set(ids)
  type Base = VariantDefinition & { owner: string }
  const fixed: Base[] = []
  const addFixed = (name: string, arm: string, x86: string): void => {
    if (have.has(arm) && have.has(x86))
      fixed.push({ name, archives: arm === x86 ? [arm] : [arm, x86], arm, x86, owner: name })
  }
  addFixed('default', DEFAULT_ARM, DEFAULT_X86)
  addFixed('lts', LTS_ARM, LTS_X86)
  addFixed('armbian-uefi', UEFI_ARM, UEFI_X86)

  const branches = new Map<string, string[]>()
  for (const id of [...have].sort(compare)) {
    const m = ARMBIAN_BOARD.exec(id)
    if (!m || id.startsWith('armbian-uefi-') || !have.has(UEFI_X86)) continue
    branches.set(m[1]!, [...(branches.get(m[1]!) ?? []), id])
  }
  const boards = [...branches].flatMap(([board, boardIds]) =>
    boardIds.map(id => ({ id, short: boardIds.length === 1 ? `armbian-${board}` : undefined }))
  )

  // Who answers to a name: every name a variant could be asked by, with its -all form.
  const claims = new Map<string, Set<string>>()
  const claim = (name: string, owner: string): void => {
    for (const n of [name, name + ALL_SUFFIX])
      claims.set(n, (claims.get(n) ?? new Set()).add(owner))
  }
  const contested = (name: string, owner: string): boolean =>
    [...(claims.get(name) ?? [])].some(o => o !== owner)
  for (const f of fixed) claim(f.name, f.owner)
  for (const b of boards) {
    claim(b.id, b.id)
    if (b.short) claim(b.short, b.id)
  }
  const named = boards.map(b => {
    const keepShort =
      b.short !== undefined &&
      // Branch "all": the id, which the board also answers to, would be the short name's -all.
      b.short + ALL_SUFFIX !== b.id &&
      !contested(b.short, b.id) &&
      !contested(b.short + ALL_SUFFIX, b.id)
    return { id: b.id, name: keepShort ? b.short! : b.id, aliases: keepShort ? [b.id] : [] }
  })
  claims.clear()
  for (const f of fixed) claim(f.name, f.owner)
  for (const b of named) for (const n of [b.name, ...b.aliases]) claim(n, b.id)

  const unnamed: string[] = []
  const bases: Base[] = [...fixed]
  for (const b of named) {
    // A plain name another variant answers to (as its -all form, or a fixed flavor's name).
    const clash = [b.name, ...b.aliases].find(n => contested(n, b.id))
    const fixedClash = [b.name, ...b.aliases]
      .flatMap(n => [n, n + ALL_SUFFIX])
      .find(n => fixed.some(f => [...(claims.get(n) ?? [])].includes(f.owner)))
    if (clash !== undefined || fixedClash !== undefined) {
      unnamed.push(
        `hook_${b.id}.tar.gz gets no variant of its own: its name ${clash ?? fixedClash} is already another variant's name; it is still part of every -all variant`
      )
      continue
    }
    bases.push({
      name: b.name,
      aliases: b.aliases,
      archives: [b.id, UEFI_X86],
      arm: b.id,
      x86: UEFI_X86,
      owner: b.id
    })
  }

  const everything = [...have].sort(compare)
  const variants = bases.flatMap(({ owner: _owner, ...base }) => [
    base,
    {
      ...base,
      name: base.name + ALL_SUFFIX,
      ...(base.aliases === undefined ? {} : { aliases: base.aliases.map(a => a + ALL_SUFFIX) }),
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
  const names = variants.flatMap(v => [v.name, ...(v.aliases ?? [])])
  if (new Set(names).size !== names.length)
    throw new Error(`internal: variant names collide: ${names.join(', ')}`)
  return { variants: variants.sort((a, b) => compare(a.name, b.name)), unnamed }
}

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

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

/** Byte-wise order, independent of the runner's locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
