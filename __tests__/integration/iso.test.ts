import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { lstat, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { ok, runAction } from '../support/action.js'
import { isoAsset, readTar } from '../support/hook-release.js'
import { useReleaseGround } from '../support/ground.js'
import { startWorld, type World } from '../support/world.js'

// Issue 12, input `iso`: the variant's hook-<id>-efi-initrd.iso images join the bundle, fetched,
// verified against checksum.txt's SHA-512 and cached like the archives' files.

const g = useReleaseGround('hook-iso-it-')

const inputs = (variant: string, extra: Record<string, string> = {}): Record<string, string> =>
  g.inputs(variant, { iso: 'true', ...extra })

const LTS_ISOS = ['latest-lts-aarch64', 'latest-lts-x86_64'].map(isoAsset)

describe('iso: true', () => {
  it('lts: both LTS images, byte for byte, in the files output; cached for the next run', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    g.server.resetRequests()
    const first = ok(await runAction({ inputs: inputs('lts'), toolCache }))
    expect(
      g.server
        .requests(/\.iso$/)
        .map(r => path.basename(r.path))
        .sort()
    ).toEqual(LTS_ISOS)
    const bundle = first.outputs['bundle-dir']!
    const files = JSON.parse(first.outputs['files']!) as Array<{
      name: string
      size: number
      sha256: string
    }>
    for (const id of ['latest-lts-aarch64', 'latest-lts-x86_64']) {
      const iso = g.release.isos[id]!
      const where = path.join(bundle, iso.asset)
      expect((await lstat(where)).isFile()).toBe(true)
      const bytes = await readFile(where)
      expect(bytes.equals(await readFile(path.join(g.release.dir, iso.asset)))).toBe(true)
      expect(files).toContainEqual({ name: iso.asset, size: iso.size, sha256: iso.sha256 })
    }
    // Only the variant's own images: none of the default flavor's.
    expect((await readdir(bundle)).filter(n => n.endsWith('.iso')).sort()).toEqual(LTS_ISOS)
    expect(files).toHaveLength(12)
    expect(first.stdout).toMatch(/from 2 archives and 2 ISO images \(0 from the tool cache\)/)

    g.server.resetRequests()
    const second = ok(await runAction({ inputs: inputs('lts'), toolCache }))
    expect(g.server.requests().map(r => r.path)).toEqual([
      `/releases/${g.release.tag}/checksum.txt`
    ])
    expect(second.outputs['files']).toBe(first.outputs['files'])
    for (const asset of LTS_ISOS) expect(second.stdout).toContain(`${asset}: tool cache hit`)
    const sha512 = g.release.isos['latest-lts-x86_64']!.sha512
    expect(await readdir(path.join(toolCache, 'hook-iso_latest-lts-x86_64'))).toEqual([
      `0.0.0-sha512-${sha512.slice(0, 64)}`
    ])
  })

  it('a cached image is proved on every hit like an archive: a changed one is fetched again', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    ok(await runAction({ inputs: inputs('lts'), toolCache }))
    const iso = g.release.isos['latest-lts-x86_64']!
    const entry = path.join(
      toolCache,
      'hook-iso_latest-lts-x86_64',
      `0.0.0-sha512-${iso.sha512.slice(0, 64)}`,
      'any'
    )
    const bytes = await readFile(path.join(entry, iso.asset))
    bytes[0x8001] = 0x58
    await rm(path.join(entry, iso.asset))
    await writeFile(path.join(entry, iso.asset), bytes)

    g.server.resetRequests()
    const run = ok(await runAction({ inputs: inputs('lts'), toolCache }))
    expect(run.warnings).toEqual([
      `${iso.asset}: ignoring the damaged tool cache entry ${entry} (${iso.asset} no longer has the recorded sha256 ${iso.sha256}); downloading again`
    ])
    expect(g.server.requests(/\.iso$/).map(r => path.basename(r.path))).toEqual([iso.asset])
    const placed = await readFile(path.join(run.outputs['bundle-dir']!, iso.asset))
    expect(createHash('sha256').update(placed).digest('hex')).toBe(iso.sha256)
  })

  it('a board without images fails before any download, naming the variants that have them', async () => {
    g.server.resetRequests()
    const run = await runAction({ inputs: inputs('armbian-bcm2711') })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      'iso: true, but variant armbian-bcm2711 has no ISO image in this release; choose one of armbian-bcm2711-all, armbian-meson64-all, armbian-rk35xx-all, armbian-rockchip64-all, armbian-uefi-all, default, default-all, lts, lts-all, or set iso: false'
    ])
    expect(g.server.requests().map(r => r.path)).toEqual([
      `/releases/${g.release.tag}/checksum.txt`
    ])
  })

  it('a corrupt image fails verification naming asset and digests; nothing is cached', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const iso = g.release.isos['latest-lts-aarch64']!
    g.fault({ path: new RegExp(`${iso.asset}$`), kind: 'corrupt' })
    const run = await runAction({ inputs: inputs('lts'), toolCache })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(
      new RegExp(
        `^${iso.asset.replace(/\./g, '\\.')} failed verification: checksum.txt says sha512 ${iso.sha512} but \\S+ gave [0-9a-f]{128}; the download is corrupt or the release changed, retry$`
      )
    )
    expect(run.outputs['bundle-dir']).toBeUndefined()
    // The other image may have finished first and been cached; this one never is.
    expect(await readdir(toolCache)).not.toContain('hook-iso_latest-lts-aarch64')
    // Nothing downloaded or staged is left behind.
    expect(await readdir(run.env['RUNNER_TEMP']!)).toEqual([])
  })

  it('iso: false (the default) adds no image', async () => {
    const run = ok(await runAction({ inputs: inputs('lts', { iso: 'false' }) }))
    expect((await readdir(run.outputs['bundle-dir']!)).filter(n => n.endsWith('.iso'))).toEqual([])
  })
})

describe('list mode', () => {
  it('says which variants have ISO images, in the log and the summary', async () => {
    const run = ok(await runAction({ inputs: inputs('') }))
    expect(run.stdout).toContain(
      `  lts: hook_latest-lts-aarch64.tar.gz, hook_latest-lts-x86_64.tar.gz; with iso: true also ${LTS_ISOS.join(', ')}`
    )
    expect(run.stdout).toContain(
      'variants with ISO images (iso: true): armbian-bcm2711-all, armbian-meson64-all, armbian-rk35xx-all, armbian-rockchip64-all, armbian-uefi-all, default, default-all, lts, lts-all'
    )
    expect(run.summary).toContain(
      `<td>lts</td><td>hook_latest-lts-aarch64.tar.gz, hook_latest-lts-x86_64.tar.gz</td><td>${LTS_ISOS.join(', ')}</td>`
    )
    expect(run.summary).toContain(
      '<td>armbian-bcm2711</td><td>hook_armbian-bcm2711-current.tar.gz, hook_armbian-uefi-x86-edge.tar.gz</td><td>none</td>'
    )
  })
})

describe('iso: true, pushed', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  }, 120000)
  afterAll(async () => {
    await world?.stop()
  })

  /** The ISO entries of a tar layer (the image format holds one bundle entry per layer). */
  async function isoInLayer(blob: Buffer): Promise<Array<{ name: string; sha256: string }>> {
    return (await readTar(blob))
      .filter(e => e.name.endsWith('.iso'))
      .map(e => ({ name: e.name, sha256: createHash('sha256').update(e.data).digest('hex') }))
  }

  it('artifact: one layer per image, titled with its release name, holding its bytes', async () => {
    const run = ok(await runAction({ inputs: world.inputs('lts', { iso: 'true' }, 'hook/iso') }))
    const manifest = (await world.registry.getManifest('hook/iso', 'v0.11.1-lts')).body as {
      layers: Array<{ digest: string; annotations: Record<string, string> }>
    }
    for (const id of ['latest-lts-aarch64', 'latest-lts-x86_64']) {
      const iso = world.release.isos[id]!
      const layer = manifest.layers.find(
        l => l.annotations['org.opencontainers.image.title'] === iso.asset
      )!
      expect(layer.digest).toBe(`sha256:${iso.sha256}`)
      const blob = await world.registry.getBlob('hook/iso', layer.digest)
      expect(createHash('sha512').update(blob).digest('hex')).toBe(iso.sha512)
    }
    expect(run.outputs['pushed']).toBe('true')
  })

  it('image: each platform carries both images at the image root', async () => {
    ok(
      await runAction({
        inputs: world.inputs('lts', { iso: 'true', format: 'image' }, 'hook/iso-image')
      })
    )
    const index = (await world.registry.getManifest('hook/iso-image', 'v0.11.1-lts')).body as {
      manifests: Array<{ digest: string }>
    }
    expect(index.manifests).toHaveLength(2)
    for (const entry of index.manifests) {
      const manifest = (await world.registry.getManifest('hook/iso-image', entry.digest)).body as {
        layers: Array<{ digest: string }>
      }
      const found: Array<{ name: string; sha256: string }> = []
      for (const layer of manifest.layers)
        found.push(
          ...(await isoInLayer(await world.registry.getBlob('hook/iso-image', layer.digest)))
        )
      expect(found.sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(
        ['latest-lts-aarch64', 'latest-lts-x86_64'].map(id => ({
          name: world.release.isos[id]!.asset,
          sha256: world.release.isos[id]!.sha256
        }))
      )
    }
  })
})
