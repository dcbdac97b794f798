import { describe, expect, it } from '@jest/globals'
import {
  catalog,
  planCatalog,
  releaseArchives,
  type ReleaseArchive
} from '../../../src/release/catalog.js'
import { foreignStandardName, planBundle, resolveVariant } from '../../../src/release/variants.js'
import { EXTRA_IDS, SEED_IDS } from '../../support/hook-release.js'

// The seed release's archives, and a board beyond them plus a second branch for rockchip64.
const SEED = [...SEED_IDS]
const EXTRA = [...EXTRA_IDS]

function archives(ids: string[]): ReleaseArchive[] {
  return ids.map(id => ({ id, asset: `hook_${id}.tar.gz`, sha512: '0'.repeat(128) }))
}

function plan(variant: string, ids = SEED) {
  return planBundle(resolveVariant(variant, catalog(ids)), archives(ids))
}

describe('releaseArchives', () => {
  it('takes every hook_<id>.tar.gz and nothing else', () => {
    const sums = new Map([
      ['hook_x86_64.tar.gz', 'a'],
      ['hook-x86_64.iso', 'b'],
      ['checksum.txt', 'c'],
      ['hook_armbian-genio-edge.tar.gz', 'd']
    ])
    expect(releaseArchives(sums, 's').map(a => a.id)).toEqual(['armbian-genio-edge', 'x86_64'])
  })

  it('refuses a release without archives', () => {
    expect(() => releaseArchives(new Map([['hook.iso', 'a']]), 'checksum.txt')).toThrow(
      'checksum.txt lists no hook_<id>.tar.gz archive'
    )
  })
})

describe('catalog', () => {
  it('lists the seed release’s variants, each with its -all form, sorted', () => {
    expect(catalog(SEED).map(v => v.name)).toEqual([
      'armbian-bcm2711',
      'armbian-bcm2711-all',
      'armbian-meson64',
      'armbian-meson64-all',
      'armbian-rk35xx',
      'armbian-rk35xx-all',
      'armbian-rockchip64',
      'armbian-rockchip64-all',
      'armbian-uefi',
      'armbian-uefi-all',
      'default',
      'default-all',
      'lts',
      'lts-all'
    ])
  })

  it('picks up a new board and names each branch of a board that has several', () => {
    const names = catalog([...SEED, ...EXTRA]).map(v => v.name)
    expect(names).toContain('armbian-genio')
    expect(names).toContain('armbian-genio-all')
    expect(names).toContain('armbian-rockchip64-edge')
    expect(names).toContain('armbian-rockchip64-current-all')
    expect(names).not.toContain('armbian-rockchip64')
    expect(names).not.toContain('armbian-rockchip64-all')
  })

  it('offers a variant only when every archive it needs is there', () => {
    expect(catalog(['latest-lts-x86_64', 'armbian-bcm2711-current']).map(v => v.name)).toEqual([])
    expect(catalog(['x86_64', 'aarch64']).map(v => v.name)).toEqual(['default', 'default-all'])
  })
})

describe('resolveVariant', () => {
  const variants = catalog([...SEED, ...EXTRA])

  it('accepts the long armbian-<board>-<branch> form of a one-branch board', () => {
    expect(resolveVariant('armbian-bcm2711-current', variants).name).toBe('armbian-bcm2711')
    expect(resolveVariant('armbian-bcm2711-current-all', variants).name).toBe('armbian-bcm2711-all')
  })

  it('calls the short name of a several-branch board ambiguous and lists the branches', () => {
    expect(() => resolveVariant('armbian-rockchip64', variants)).toThrow(
      'variant armbian-rockchip64 is ambiguous: that board has several kernel branches; use one of: armbian-rockchip64-current, armbian-rockchip64-edge'
    )
    expect(() => resolveVariant('armbian-rockchip64-all', variants)).toThrow(
      'use one of: armbian-rockchip64-current-all, armbian-rockchip64-edge-all'
    )
  })

  it('lists what exists for an unknown variant', () => {
    expect(() => resolveVariant('armbian-nope', variants)).toThrow(
      /variant "armbian-nope" is not offered by this release; available: armbian-bcm2711, armbian-bcm2711-all, .*lts, lts-all$/
    )
  })

  it('refuses a name with shell metacharacters before looking it up', () => {
    expect(() => resolveVariant('lts;rm -rf /', variants)).toThrow(/is not a variant name/)
  })
})

describe('planBundle', () => {
  const links = (variant: string, ids?: string[]) =>
    Object.fromEntries(plan(variant, ids).links.map(l => [l.name, l.target]))

  it('lts: the LTS pair, all six standard names as links', () => {
    const p = plan('lts')
    expect(p.archives.map(a => a.id)).toEqual(['latest-lts-aarch64', 'latest-lts-x86_64'])
    expect(links('lts')).toEqual({
      'initramfs-aarch64': 'initramfs-latest-lts-aarch64',
      'initramfs-arm64': 'initramfs-latest-lts-aarch64',
      'initramfs-x86_64': 'initramfs-latest-lts-x86_64',
      'vmlinuz-aarch64': 'vmlinuz-latest-lts-aarch64',
      'vmlinuz-arm64': 'vmlinuz-latest-lts-aarch64',
      'vmlinuz-x86_64': 'vmlinuz-latest-lts-x86_64'
    })
  })

  it('a board: its archive for arm, uefi-x86 for x86_64', () => {
    expect(plan('armbian-bcm2711').archives.map(a => a.id)).toEqual([
      'armbian-bcm2711-current',
      'armbian-uefi-x86-edge'
    ])
    expect(links('armbian-bcm2711')).toMatchObject({
      'vmlinuz-arm64': 'vmlinuz-armbian-bcm2711-current',
      'initramfs-aarch64': 'initramfs-armbian-bcm2711-current',
      'vmlinuz-x86_64': 'vmlinuz-armbian-uefi-x86-edge'
    })
  })

  it('armbian-uefi: the uefi pair', () => {
    expect(links('armbian-uefi')).toMatchObject({
      'vmlinuz-aarch64': 'vmlinuz-armbian-uefi-arm64-edge',
      'initramfs-x86_64': 'initramfs-armbian-uefi-x86-edge'
    })
  })

  it('default: real files keep their names, only the arm64 alias is a link', () => {
    expect(links('default')).toEqual({
      'initramfs-arm64': 'initramfs-aarch64',
      'vmlinuz-arm64': 'vmlinuz-aarch64'
    })
  })

  it('-all: every archive but the default flavor’s, links of the base variant', () => {
    const p = plan('armbian-meson64-all', [...SEED, ...EXTRA])
    expect(p.archives.map(a => a.id).sort()).toEqual(
      [...SEED, ...EXTRA].filter(id => id !== 'x86_64' && id !== 'aarch64').sort()
    )
    expect(p.archives[0]!.id).toBe('armbian-meson64-edge')
    expect(links('armbian-meson64-all')['vmlinuz-arm64']).toBe('vmlinuz-armbian-meson64-edge')
  })

  it('default-all: every archive, default’s names stay real files', () => {
    const p = plan('default-all')
    expect(p.archives).toHaveLength(SEED.length)
    expect(links('default-all')).toEqual({
      'initramfs-arm64': 'initramfs-aarch64',
      'vmlinuz-arm64': 'vmlinuz-aarch64'
    })
  })
})

describe('foreignStandardName', () => {
  it.each([
    ['x86_64', 'vmlinuz-x86_64', undefined],
    ['aarch64', 'initramfs-aarch64', undefined],
    ['latest-lts-x86_64', 'vmlinuz-arm64', 'arm64'],
    ['latest-lts-x86_64', 'vmlinuz-x86_64', 'x86_64'],
    ['aarch64', 'vmlinuz-arm64', 'arm64'],
    ['armbian-rockchip64-edge', 'initramfs-x86_64', 'x86_64'],
    ['latest-lts-x86_64', 'dtbs-latest-lts-x86_64.tar.gz', undefined],
    ['latest-lts-x86_64', 'vmlinuz-latest-lts-x86_64', undefined]
  ])('archive %s carrying %s: %s', (id, name, foreign) => {
    expect(foreignStandardName(id, name)).toBe(foreign)
  })
})

// Issue 10 item 5: ids whose board part ends in a branch word, or a board named like <x>-all,
// used to give two variants one name, so one bundle's tags overwrote another's.
describe('variant names are unique whatever ids a release brings', () => {
  const UEFI = ['armbian-uefi-arm64-edge', 'armbian-uefi-x86-edge']
  const named = (ids: string[]) => catalog([...UEFI, ...ids])

  it('a board whose board part ends in a branch word no longer takes another board’s name', () => {
    // Board foo has two branches (named by id); board foo-edge has one: its short name
    // armbian-foo-edge was board foo's edge variant.
    const variants = named(['armbian-foo-edge', 'armbian-foo-current', 'armbian-foo-edge-vendor'])
    expect(variants.filter(v => v.name === 'armbian-foo-edge')).toHaveLength(1)
    expect(resolveVariant('armbian-foo-edge', variants).archives).toEqual([
      'armbian-foo-edge',
      'armbian-uefi-x86-edge'
    ])
    expect(resolveVariant('armbian-foo-edge-vendor', variants).arm).toBe('armbian-foo-edge-vendor')
    expect(() => resolveVariant('armbian-foo', variants)).toThrow('is ambiguous')
  })

  it('a board named <x>-all no longer takes board <x>’s -all variant', () => {
    const variants = named(['armbian-bcm-edge', 'armbian-bcm-all-edge'])
    const boards = variants.filter(v => v.name.startsWith('armbian-bcm'))
    expect(boards.map(v => [v.name, v.aliases, v.arm])).toEqual([
      ['armbian-bcm-all-edge', [], 'armbian-bcm-all-edge'],
      ['armbian-bcm-all-edge-all', [], 'armbian-bcm-all-edge'],
      ['armbian-bcm-edge', [], 'armbian-bcm-edge'],
      ['armbian-bcm-edge-all', [], 'armbian-bcm-edge']
    ])
    // Neither keeps the contested short name: asking for it says what to use instead.
    expect(() => resolveVariant('armbian-bcm', variants)).toThrow(
      'variant armbian-bcm is not a name in this release: another board’s name collides with it, so that board is offered as armbian-bcm-edge; use that'.replace(
        '’',
        "'"
      )
    )
    expect(() => resolveVariant('armbian-bcm-all', variants)).toThrow(/is not a name|not offered/)
  })

  it('an id whose branch is "all" gets no variant of its own when it is another’s -all form', () => {
    // armbian-foo-edge-all is board foo-edge, branch all; it is also the -all form of
    // armbian-foo-edge (board foo, named by id because foo has two branches).
    const { variants, unnamed } = planCatalog([
      ...UEFI,
      'armbian-foo-edge',
      'armbian-foo-current',
      'armbian-foo-edge-all'
    ])
    expect(unnamed).toEqual([
      "hook_armbian-foo-edge-all.tar.gz gets no variant of its own: its name armbian-foo-edge-all is already another variant's name; it is still part of every -all variant"
    ])
    const v = resolveVariant('armbian-foo-edge-all', variants)
    expect(v.arm).toBe('armbian-foo-edge')
    expect(v.archives).toContain('armbian-foo-edge-all')
  })

  it('keeps today’s names for releases without collisions', () => {
    expect(planCatalog([...SEED, ...EXTRA]).unnamed).toEqual([])
    expect(resolveVariant('armbian-bcm2711-current', catalog(SEED)).name).toBe('armbian-bcm2711')
  })

  // Property-style: seeded random id sets from a small vocabulary full of branch words, "all",
  // "uefi" and repeats, so that collisions are frequent.
  function random(seed: number): () => number {
    let x = seed >>> 0 || 1
    return () => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) / 2 ** 32
    }
  }
  const WORDS = ['foo', 'edge', 'all', 'current', 'vendor', 'uefi', 'x86', 'arm64', 'bcm']
  function randomIds(next: () => number): string[] {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
    const ids = new Set<string>()
    for (const id of [...SEED, ...EXTRA]) if (next() < 0.3) ids.add(id)
    const n = Math.floor(next() * 8)
    for (let i = 0; i < n; i++) {
      const words = Array.from({ length: 2 + Math.floor(next() * 3) }, () => pick(WORDS))
      ids.add(`armbian-${words.join('-')}`)
    }
    if (next() < 0.8) ids.add('armbian-uefi-x86-edge')
    return [...ids]
  }

  it('for 3000 random id sets: names unique, each resolving to one definition, order-independent', () => {
    const failures: string[] = []
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed)
      const ids = randomIds(next)
      const fail = (what: string): void => {
        failures.push(`${what} (seed ${seed}, ids ${ids.join(' ')})`)
      }
      const variants = catalog(ids)
      const unnamed = planCatalog(ids).unnamed
      const names = variants.flatMap(v => [v.name, ...(v.aliases ?? [])])
      if (new Set(names).size !== names.length) fail(`names collide: ${names.join(' ')}`)
      for (const v of variants) {
        for (const n of [v.name, ...(v.aliases ?? [])]) {
          const r = resolveVariant(n, variants)
          if (r.arm !== v.arm || r.x86 !== v.x86 || r.archives.join() !== v.archives.join())
            fail(`${n} resolves to ${r.name}, not ${v.name}`)
        }
        for (const id of v.archives) if (!ids.includes(id)) fail(`${v.name} needs unknown ${id}`)
      }
      // Every board has exactly one variant named by its short name or its id, or a warning.
      if (ids.includes('armbian-uefi-x86-edge')) {
        for (const id of ids) {
          const m = /^armbian-(?!uefi-)([a-z0-9-]+)-[a-z0-9]+$/.exec(id)
          if (!m) continue
          const own = variants.filter(
            v => v.arm === id && (v.name === id || v.name === `armbian-${m[1]}`)
          )
          const warned = unnamed.some(u => u.startsWith(`hook_${id}.tar.gz `))
          if (own.length + (warned ? 1 : 0) !== 1)
            fail(`${id}: ${own.map(v => v.name).join(' ')}${warned ? ' and a warning' : ''}`)
        }
      }
      const shuffled = [...ids].sort(() => next() - 0.5)
      if (JSON.stringify(catalog(shuffled)) !== JSON.stringify(variants))
        fail('depends on the order of the ids')
    }
    expect(failures).toEqual([])
  })
})
