import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { ok, runAction, type ActionRun } from '../support/action.js'
import { SEED_IDS, STANDARD_NAMES } from '../support/hook-release.js'
import { ORAS_VERSION, UNPINNED_ORAS_VERSION as UNPINNED } from '../support/oras-release.js'
import { startWorld, type World } from '../support/world.js'

// Issue 3 against a real registry (Debian's docker-registry on loopback) with the real oras
// installed through the tool cache from a served "oras release"; every result is read back
// through the registry's HTTP API.

let world: World
let toolCache: string

const VERSION = 'v0.11.1'
const VARIANTS = [
  'lts',
  'lts-all',
  'armbian-uefi',
  'armbian-uefi-all',
  'armbian-bcm2711',
  'armbian-bcm2711-all',
  'armbian-meson64',
  'armbian-meson64-all',
  'armbian-rk35xx',
  'armbian-rk35xx-all',
  'armbian-rockchip64',
  'armbian-rockchip64-all'
]
const runs = new Map<string, ActionRun>()

beforeAll(async () => {
  world = await startWorld({ release: { ids: SEED_IDS } })
  toolCache = await mkdtemp(path.join(world.dir, 'tool-cache-'))
  // Twelve matrix-style runs at once: one release server, one registry repository, one shared
  // tool cache (the load test of the fault-injection issue, at small scale).
  const results = await Promise.all(
    VARIANTS.map(variant =>
      runAction({
        inputs: world.inputs(variant, {
          latest: String(variant === 'lts' || variant === 'lts-all')
        }),
        toolCache
      })
    )
  )
  VARIANTS.forEach((v, i) => runs.set(v, results[i]!))
})

afterAll(async () => {
  await world?.stop()
})

describe('the tag set of the original workflow', () => {
  it('every run succeeded and reported what it pushed', () => {
    for (const [variant, run] of runs) {
      ok(run)
      expect(run.outputs['pushed']).toBe('true')
      expect(run.outputs['image']).toBe(`${world.registry.host}/hook/images`)
      expect(run.outputs['digest']).toMatch(/^sha256:[0-9a-f]{64}$/)
      const tags = JSON.parse(run.outputs['tags']!) as string[]
      expect(tags[0]).toBe(`${VERSION}-${variant}`)
      expect(JSON.parse(run.outputs['refs']!)).toEqual(
        tags.map(t => `${world.registry.host}/hook/images:${t}`)
      )
    }
    expect(JSON.parse(runs.get('lts')!.outputs['tags']!)).toEqual([
      'v0.11.1-lts',
      'v0.11.1',
      'latest-lts',
      'latest'
    ])
    expect(JSON.parse(runs.get('lts-all')!.outputs['tags']!)).toEqual([
      'v0.11.1-lts-all',
      'v0.11.1-all',
      'latest-lts-all',
      'latest-all'
    ])
  })

  it('the registry holds exactly the expected tags, each on its run’s manifest', async () => {
    const tags = await world.registry.listTags('hook/images')
    expect(tags.sort()).toEqual(
      [
        'v0.11.1',
        'v0.11.1-all',
        ...VARIANTS.map(v => `v0.11.1-${v}`),
        'latest',
        'latest-lts',
        'latest-all',
        'latest-lts-all'
      ].sort()
    )
    for (const [, run] of runs) {
      for (const tag of JSON.parse(run.outputs['tags']!) as string[]) {
        expect((await world.registry.getManifest('hook/images', tag)).digest).toBe(
          run.outputs['digest']
        )
      }
    }
  })

  it.each(VARIANTS)(
    '%s: artifactType, annotations, layers as the files output says',
    async variant => {
      const run = runs.get(variant)!
      const manifest = await world.registry.getManifest('hook/images', `${VERSION}-${variant}`)
      const m = manifest.body as {
        mediaType: string
        artifactType: string
        config: { mediaType: string; size: number }
        layers: Array<{
          mediaType: string
          digest: string
          size: number
          annotations: Record<string, string>
        }>
        annotations: Record<string, string>
      }
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
      expect(m.artifactType).toBe('application/vnd.tinkerbell.hook.os.v1+tar')
      expect(m.config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', size: 2 })
      // created: the newest entry time inside the bundle's archives, so re-runs are identical.
      const newest = Math.max(
        ...Object.values(world.release.archives)
          .filter(a =>
            m.layers.some(l =>
              l.annotations['org.opencontainers.image.title']!.endsWith(a.asset.slice(5, -7))
            )
          )
          .map(a => a.newestMtime.getTime())
      )
      expect(m.annotations).toEqual({
        'org.opencontainers.image.source': 'https://github.com/tinkerbell/hook',
        'org.opencontainers.image.version': VERSION,
        'org.opencontainers.image.description': `Tinkerbell Hook OS boot files, variant ${variant}, from tinkerbell/hook ${VERSION}`,
        'org.opencontainers.image.created': new Date(newest).toISOString().replace('.000Z', 'Z'),
        'org.tinkerbell.hook.variant': variant,
        // Provenance (issue 9): what the bundle is built from, and the digest of its inputs.
        'org.tinkerbell.hook.format': 'artifact',
        'org.tinkerbell.hook.layout': '1',
        'org.tinkerbell.hook.sources': expect.any(String),
        'org.tinkerbell.hook.inputs': expect.stringMatching(/^sha256:[0-9a-f]{64}$/)
      })
      const sources = JSON.parse(m.annotations['org.tinkerbell.hook.sources']!) as Record<
        string,
        string
      >
      expect(Object.keys(sources)).toEqual(Object.keys(sources).sort())
      for (const [asset, sha512] of Object.entries(sources))
        expect(world.release.assets[asset]!.sha512).toBe(sha512)

      const files = JSON.parse(run.outputs['files']!) as Array<{
        name: string
        size: number
        sha256: string
        target?: string
      }>
      expect(m.layers.map(l => l.annotations['org.opencontainers.image.title'])).toEqual(
        files.map(f => f.name)
      )
      const byTitle = new Map(
        m.layers.map(l => [l.annotations['org.opencontainers.image.title']!, l])
      )
      for (const f of files) {
        const layer = byTitle.get(f.name)!
        expect(layer.size).toBe(f.size)
        expect(layer.mediaType).toBe(
          f.name.endsWith('.tar.gz') ? 'application/gzip' : 'application/octet-stream'
        )
        if (f.target) {
          // A link is a layer with its target's bytes: same digest, stored once.
          expect(layer.annotations['org.tinkerbell.hook.link']).toBe(f.target)
          expect(layer.digest).toBe(byTitle.get(f.target)!.digest)
        } else {
          expect(layer.annotations['org.tinkerbell.hook.link']).toBeUndefined()
        }
      }
      const links = files.filter(f => f.target).map(f => f.name)
      expect(links).toEqual(STANDARD_NAMES)
      // The bytes in the registry are the bytes hook shipped.
      const kernel = files.find(f => f.name === 'vmlinuz-x86_64')!
      const blob = await world.registry.getBlob(
        'hook/images',
        byTitle.get('vmlinuz-x86_64')!.digest
      )
      expect(createHash('sha256').update(blob).digest('hex')).toBe(kernel.sha256)
    }
  )

  it('shared files are stored once by the registry', async () => {
    const digests = new Set<string>()
    let layers = 0
    for (const v of VARIANTS) {
      const m = (await world.registry.getManifest('hook/images', `${VERSION}-${v}`)).body as {
        layers: Array<{ digest: string }>
      }
      layers += m.layers.length
      for (const l of m.layers) digests.add(l.digest)
    }
    const stored = await readdir(
      path.join(world.registry.rootDir, 'docker/registry/v2/blobs/sha256'),
      {
        recursive: true
      }
    )
    const blobs = stored.filter(p => p.endsWith('/data')).length
    // Every distinct file of the release once, plus the empty config and the 12 manifests.
    const releaseFiles = Object.values(world.release.archives).flatMap(a => Object.values(a.files))
    const distinct = new Set(releaseFiles.map(f => f.sha256)).size
    expect(digests.size).toBe(distinct - 4) // the default flavor's 4 files are in no pushed variant
    expect(blobs).toBe(digests.size + 1 + VARIANTS.length)
    expect(layers).toBeGreaterThan(digests.size * 2)
  })

  it('the job summary shows files, tags, digest and a ready-to-copy oras pull', () => {
    const run = runs.get('armbian-bcm2711')!
    expect(run.summary).toContain('<h2>Hook v0.11.1 armbian-bcm2711</h2>')
    expect(run.summary).toContain('<td>vmlinuz-arm64</td>')
    expect(run.summary).toContain('<td>vmlinuz-armbian-bcm2711-current</td>')
    expect(run.summary).toContain(`<code>v0.11.1-armbian-bcm2711</code>`)
    expect(run.summary).toContain(
      `oras pull ${world.registry.host}/hook/images@${run.outputs['digest']}`
    )
  })
})

describe('format artifact (the default) is unchanged by the image format', () => {
  // Manifests recorded from main's dist before the format input existed (53d7d61 + the
  // credentials change be797b6), for this test release. Only the provenance annotations added
  // since may differ.
  const PROVENANCE = ['format', 'layout', 'sources', 'inputs'].map(k => `org.tinkerbell.hook.${k}`)
  const withoutProvenance = (raw: string): unknown => {
    const m = JSON.parse(raw) as { annotations: Record<string, string> }
    for (const k of PROVENANCE) delete m.annotations[k]
    return m
  }

  it.each(['lts', 'armbian-bcm2711-all'])('%s: the recorded manifest', async variant => {
    const recorded = JSON.parse(
      await readFile(
        path.join(import.meta.dirname, '..', 'fixtures', 'artifact-manifests.json'),
        'utf8'
      )
    ) as Record<string, { manifest: string }>
    ok(runs.get(variant)!)
    const m = await world.registry.getManifest('hook/images', `${VERSION}-${variant}`)
    expect(withoutProvenance(m.raw.toString())).toEqual(
      withoutProvenance(recorded[variant]!.manifest)
    )
    expect(runs.get(variant)!.outputs['platforms']).toBeUndefined()
  })
})

describe('twelve runs in parallel on one runner', () => {
  it('left every tool cache entry complete and holding the verified bytes', async () => {
    const tools = (await readdir(toolCache)).filter(t => t.startsWith('hook_')).sort()
    // Every archive but the default flavor's was used by some variant.
    expect(tools).toEqual(
      SEED_IDS.filter(id => id !== 'x86_64' && id !== 'aarch64')
        .map(id => `hook_${id}`)
        .sort()
    )
    for (const tool of tools) {
      const asset = `${tool}.tar.gz`
      const sha512 = world.release.assets[asset]!.sha512
      const version = `0.0.0-sha512-${sha512.slice(0, 64)}`
      expect(await readdir(path.join(toolCache, tool))).toEqual([version])
      const entry = path.join(toolCache, tool, version, 'any')
      expect(await readdir(path.dirname(entry))).toEqual(['any', 'any.complete'])
      const record = JSON.parse(await readFile(path.join(entry, '.hook-archive.json'), 'utf8')) as {
        sha512: string
        files: Array<{ name: string; sha256: string }>
      }
      expect(record.sha512).toBe(sha512)
      const generated = world.release.archives[tool.slice(5)]!.files
      expect(record.files.map(f => f.name).sort()).toEqual(Object.keys(generated).sort())
      for (const f of record.files) {
        const bytes = await readFile(path.join(entry, f.name))
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(generated[f.name]!.sha256)
      }
    }
  })
})

describe('reproducible and idempotent', () => {
  it('re-running a variant yields the same digest and changes nothing in the registry', async () => {
    const before = await world.registry.listTags('hook/images')
    const again = ok(await runAction({ inputs: world.inputs('armbian-bcm2711'), toolCache }))
    expect(again.outputs['digest']).toBe(runs.get('armbian-bcm2711')!.outputs['digest'])
    expect(await world.registry.listTags('hook/images')).toEqual(before)
    // Every blob was already there: oras checked and skipped them all.
    expect(again.stdout).not.toMatch(/oras: Uploaded /)
  })

  it('an explicit created (or SOURCE_DATE_EPOCH) sets org.opencontainers.image.created', async () => {
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { created: '2030-01-02T03:04:05Z' }, 'hook/created'),
        toolCache
      })
    )
    const m = (await world.registry.getManifest('hook/created', 'v0.11.1-lts')).body as {
      annotations: Record<string, string>
    }
    expect(m.annotations['org.opencontainers.image.created']).toBe('2030-01-02T03:04:05Z')
    const epoch = ok(
      await runAction({
        inputs: world.inputs('lts', {}, 'hook/created'),
        env: { SOURCE_DATE_EPOCH: '1893553445' },
        toolCache
      })
    )
    expect(epoch.outputs['digest']).toBe(run.outputs['digest'])
  })

  it('extra tags and annotations are added', async () => {
    const run = ok(
      await runAction({
        inputs: world.inputs(
          'armbian-uefi',
          {
            tags: 'stable, edge\nweekly',
            annotations: 'org.opencontainers.image.vendor=ACME\nx.y=a=b'
          },
          'hook/extra'
        ),
        toolCache
      })
    )
    expect(JSON.parse(run.outputs['tags']!)).toEqual([
      'v0.11.1-armbian-uefi',
      'stable',
      'edge',
      'weekly'
    ])
    expect((await world.registry.listTags('hook/extra')).sort()).toEqual([
      'edge',
      'stable',
      'v0.11.1-armbian-uefi',
      'weekly'
    ])
    const m = (await world.registry.getManifest('hook/extra', 'weekly')).body as {
      annotations: Record<string, string>
    }
    expect(m.annotations).toMatchObject({ 'org.opencontainers.image.vendor': 'ACME', 'x.y': 'a=b' })
  })
})

describe('oras through the tool cache', () => {
  it('the second run needs no network for oras, runs it by absolute path and exposes it', async () => {
    const cache = await mkdtemp(path.join(world.dir, 'tc-'))
    world.server.resetRequests()
    const first = ok(
      await runAction({ inputs: world.inputs('lts', {}, 'hook/oras'), toolCache: cache })
    )
    expect(world.server.requests(/\/oras\//)).toHaveLength(1)
    world.server.resetRequests()
    const second = ok(
      await runAction({ inputs: world.inputs('lts', {}, 'hook/oras'), toolCache: cache })
    )
    expect(world.server.requests(/\/oras\//)).toEqual([])
    const orasPath = second.outputs['oras-path']!
    expect(orasPath).toBe(first.outputs['oras-path'])
    expect(orasPath.startsWith(cache)).toBe(true)
    expect(path.basename(orasPath)).toBe('oras')
    expect((await stat(orasPath)).mode & 0o111).not.toBe(0)
    // A custom archive is cached under its own checksum, never as the official release.
    expect(await readdir(path.join(cache, 'oras'))).toEqual([
      `${ORAS_VERSION}-sha256-${world.oras.sha256.slice(0, 32)}`
    ])
    // Later steps get it on PATH.
    expect(second.stdout).toContain(`oras ${ORAS_VERSION} at ` + orasPath)
    expect(await readFile(second.env['GITHUB_PATH']!, 'utf8')).toBe(`${path.dirname(orasPath)}\n`)
  })

  it('another official version is verified against that release’s checksums file', async () => {
    const { buildOrasRelease } = await import('../support/oras-release.js')
    await buildOrasRelease(path.join(world.dir, 'oras', `v${UNPINNED}`), {
      version: UNPINNED
    })
    world.server.resetRequests()
    const run = ok(
      await runAction({
        inputs: {
          ...world.inputs('lts', {}, 'hook/orasunpinned'),
          'oras-url': '',
          'oras-checksum': '',
          'oras-version': UNPINNED
        },
        env: { HOOK_BUNDLE_ORAS_MIRROR: world.orasMirror }
      })
    )
    expect(world.server.requests(/\/oras\//).map(r => r.path)).toEqual([
      `/oras/v${UNPINNED}/oras_${UNPINNED}_checksums.txt`,
      `/oras/v${UNPINNED}/oras_${UNPINNED}_linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}.tar.gz`
    ])
    expect(run.stdout).toContain(`oras ${UNPINNED} at `)
  })
})

describe('oci-layout target', () => {
  it('pushes into a local OCI image layout with no registry and no login', async () => {
    const layout = path.join(world.dir, 'layout')
    const run = ok(
      await runAction({
        inputs: {
          ...world.inputs('armbian-bcm2711'),
          image: `oci-layout:${layout}`,
          password: 'unused',
          'plain-http': 'false'
        },
        toolCache
      })
    )
    expect(run.outputs['image']).toBe(`oci-layout:${layout}`)
    expect(JSON.parse(run.outputs['refs']!)).toEqual([`${layout}:v0.11.1-armbian-bcm2711`])
    expect(run.stdout).not.toContain('logged in')
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>
    }
    expect(index.manifests).toEqual([
      expect.objectContaining({
        digest: run.outputs['digest'],
        annotations: expect.objectContaining({
          'org.opencontainers.image.ref.name': 'v0.11.1-armbian-bcm2711'
        })
      })
    ])
    // Same content, same manifest as the registry push of the same variant.
    expect(run.outputs['digest']).toBe(runs.get('armbian-bcm2711')!.outputs['digest'])
  })

  it('refuses a relative layout whose absolute path has "@", before any download', async () => {
    const cwd = await mkdtemp(path.join(world.dir, 'work@1-'))
    world.server.resetRequests()
    const run = await runAction({
      inputs: { ...world.inputs('lts'), image: 'oci-layout:out', 'plain-http': 'false' },
      toolCache,
      cwd
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      `image "oci-layout:out" names a directory (absolute path ${JSON.stringify(path.join(cwd, 'out'))}) with "@", which oras reads as a tag list, tag or digest separator: choose a directory whose absolute path has no ",", ":" or "@"`
    ])
    expect(world.server.requests()).toEqual([])
    // oras would have cut the path at the "@" and written a layout beside it.
    expect(await readdir(world.dir)).not.toContain('work')
    expect(await readdir(cwd)).toEqual([])
  })

  it('takes a second variant and a new tag into the same layout (oras says a bare "not found")', async () => {
    const layout = path.join(world.dir, 'layout-shared')
    const into = (variant: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
      runAction({
        inputs: {
          ...world.inputs(variant, extra),
          image: `oci-layout:${layout}`,
          'plain-http': 'false'
        },
        toolCache
      })
    ok(await into('armbian-bcm2711'))
    const second = ok(await into('lts', { latest: 'true' }))
    expect(second.outputs['skipped']).toBe('false')
    const third = ok(await into('armbian-bcm2711', { tags: 'stable' }))
    expect(JSON.parse(third.outputs['moved-tags']!)).toEqual(['stable'])
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>
    }
    const tags = index.manifests
      .map(m => m.annotations?.['org.opencontainers.image.ref.name'])
      .filter(t => t !== undefined)
      .sort()
    expect(tags).toEqual([
      'latest',
      'latest-lts',
      'stable',
      'v0.11.1',
      'v0.11.1-armbian-bcm2711',
      'v0.11.1-lts'
    ])
  })
})
