import { ActionError } from '../util/errors.js'
import { compare } from '../util/compare.js'

/** One `hook_<id>.tar.gz` the release offers, with the SHA-512 its checksum.txt gives. */
export interface ReleaseArchive {
  id: string
  asset: string
  sha512: string
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

// Flavor ids as hook's build system names its outputs (HOOK-RELEASES.md). Boards are not listed
// here on purpose: they are read from the release.
const DEFAULT_X86 = 'x86_64'
const DEFAULT_ARM = 'aarch64'
const LTS_X86 = 'latest-lts-x86_64'
const LTS_ARM = 'latest-lts-aarch64'
const UEFI_ARM = 'armbian-uefi-arm64-edge'
const UEFI_X86 = 'armbian-uefi-x86-edge'
export const ALL_SUFFIX = '-all'

const ARCHIVE_ASSET = /^hook_(.+)\.tar\.gz$/
// armbian-<board>-<branch>: the branch is the last dash-separated word, the board the rest.
export const ARMBIAN_BOARD = /^armbian-([a-z0-9]+(?:-[a-z0-9]+)*)-([a-z0-9]+)$/

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
  const fixed = fixedVariants(have)
  const named = nameBoards(fixed, armbianBoards(have))
  const { bases, unnamed } = baseVariants(fixed, named)
  const variants = withAllForms(bases, have)
  const names = variants.flatMap(v => [v.name, ...(v.aliases ?? [])])
  if (new Set(names).size !== names.length)
    throw new Error(`internal: variant names collide: ${names.join(', ')}`)
  return { variants: variants.sort((a, b) => compare(a.name, b.name)), unnamed }
}

/** A base variant (no -all form yet) and whose it is: the fixed flavor's name or the board id. */
type Base = VariantDefinition & { owner: string }

/** A board's id and, for a board with one branch, the short name it would like. */
interface Board {
  id: string
  short: string | undefined
}

/** A board with the name it gets and the names it also answers to. */
interface NamedBoard {
  id: string
  name: string
  aliases: string[]
}

/** The fixed flavors whose archives are all present. */
function fixedVariants(have: ReadonlySet<string>): Base[] {
  const fixed: Base[] = []
  const addFixed = (name: string, arm: string, x86: string): void => {
    if (have.has(arm) && have.has(x86))
      fixed.push({ name, archives: arm === x86 ? [arm] : [arm, x86], arm, x86, owner: name })
  }
  addFixed('default', DEFAULT_ARM, DEFAULT_X86)
  addFixed('lts', LTS_ARM, LTS_X86)
  addFixed('armbian-uefi', UEFI_ARM, UEFI_X86)
  return fixed
}

/** The armbian boards (served with the UEFI x86 archive), each id with its short name if any. */
function armbianBoards(have: ReadonlySet<string>): Board[] {
  const branches = new Map<string, string[]>()
  for (const id of [...have].sort(compare)) {
    const m = ARMBIAN_BOARD.exec(id)
    if (!m || id.startsWith('armbian-uefi-') || !have.has(UEFI_X86)) continue
    branches.set(m[1]!, [...(branches.get(m[1]!) ?? []), id])
  }
  return [...branches].flatMap(([board, boardIds]) =>
    boardIds.map(id => ({ id, short: boardIds.length === 1 ? `armbian-${board}` : undefined }))
  )
}

/** Who answers to a name: every name a variant could be asked by, with its -all form. */
class Claims {
  private readonly owners = new Map<string, Set<string>>()

  claim(name: string, owner: string): void {
    for (const n of [name, name + ALL_SUFFIX])
      this.owners.set(n, (this.owners.get(n) ?? new Set()).add(owner))
  }

  contested(name: string, owner: string): boolean {
    return [...(this.owners.get(name) ?? [])].some(o => o !== owner)
  }

  ownedBy(name: string, owner: string): boolean {
    return [...(this.owners.get(name) ?? [])].includes(owner)
  }
}

/** Gives each board its short name where nothing else answers to it, else its id. */
function nameBoards(fixed: Base[], boards: Board[]): NamedBoard[] {
  const claims = new Claims()
  for (const f of fixed) claims.claim(f.name, f.owner)
  for (const b of boards) {
    claims.claim(b.id, b.id)
    if (b.short) claims.claim(b.short, b.id)
  }
  return boards.map(b => {
    const keepShort =
      b.short !== undefined &&
      // Branch "all": the id, which the board also answers to, would be the short name's -all.
      b.short + ALL_SUFFIX !== b.id &&
      !claims.contested(b.short, b.id) &&
      !claims.contested(b.short + ALL_SUFFIX, b.id)
    return { id: b.id, name: keepShort ? b.short! : b.id, aliases: keepShort ? [b.id] : [] }
  })
}

/** The fixed flavors and every board whose names are still its own; the others, with why. */
function baseVariants(fixed: Base[], named: NamedBoard[]): { bases: Base[]; unnamed: string[] } {
  const claims = new Claims()
  for (const f of fixed) claims.claim(f.name, f.owner)
  for (const b of named) for (const n of [b.name, ...b.aliases]) claims.claim(n, b.id)
  const unnamed: string[] = []
  const bases: Base[] = [...fixed]
  for (const b of named) {
    // A plain name another variant answers to (as its -all form, or a fixed flavor's name).
    const clash = [b.name, ...b.aliases].find(n => claims.contested(n, b.id))
    const fixedClash = [b.name, ...b.aliases]
      .flatMap(n => [n, n + ALL_SUFFIX])
      .find(n => fixed.some(f => claims.ownedBy(n, f.owner)))
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
  return { bases, unnamed }
}

/** Each base variant, then its -all form: its archives plus every other archive of the release. */
function withAllForms(bases: Base[], have: ReadonlySet<string>): VariantDefinition[] {
  const everything = [...have].sort(compare)
  return bases.flatMap(({ owner: _owner, ...base }) => [
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
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}
