import { describe, expect, it } from '@jest/globals'
import {
  foreignStandardName,
  catalog,
  planBundle,
  releaseArchives,
  resolveVariant,
  type ReleaseArchive
} from '../../src/variants.js'
import { EXTRA_IDS, SEED_IDS } from '../support/hook-release.js'

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
