import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, mkdtemp, readFile, readlink, readdir, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { ok, listFiles, runAction } from '../support/action.js'
import {
  EXTRA_IDS,
  SEED_IDS,
  generateRelease,
  type GeneratedRelease
} from '../support/hook-release.js'
import { useReleaseGround } from '../support/ground.js'

// The core issue's acceptance: push: false builds exactly the planned files and links, from
// archives verified and cached by content, with the outputs a workflow reads.

const ALL_IDS = [...SEED_IDS, ...EXTRA_IDS]
const g = useReleaseGround('hook-bundle-it-', { ids: ALL_IDS })
let rolling: GeneratedRelease

beforeAll(async () => {
  rolling = await generateRelease(g.releases, { tag: 'latest', seed: 'rolling-1' })
})

const inputs = g.inputs

/** Every entry of the bundle: real files by sha256, links by target. */
async function describeBundle(bundleDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(bundleDir)).sort()) {
    const where = path.join(bundleDir, name)
    const s = await lstat(where)
    if (s.isSymbolicLink()) out[name] = `-> ${await readlink(where)}`
    else if (s.isFile())
      out[name] = createHash('sha256')
        .update(await readFile(where))
        .digest('hex')
    else out[name] = 'unexpected'
  }
  return out
}

/** What the bundle must hold: every file of the given archives plus the given links. */
function expected(ids: string[], links: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const id of ids) {
    for (const [name, f] of Object.entries(g.release.archives[id]!.files)) out[name] = f.sha256
  }
  for (const [name, target] of Object.entries(links)) out[name] = `-> ${target}`
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function sixLinks(arm: string, x86: string): Record<string, string> {
  return {
    'vmlinuz-arm64': `vmlinuz-${arm}`,
    'vmlinuz-aarch64': `vmlinuz-${arm}`,
    'initramfs-arm64': `initramfs-${arm}`,
    'initramfs-aarch64': `initramfs-${arm}`,
    'vmlinuz-x86_64': `vmlinuz-${x86}`,
    'initramfs-x86_64': `initramfs-${x86}`
  }
}

describe('push: false builds the bundle', () => {
  it.each([
    [
      'lts',
      ['latest-lts-aarch64', 'latest-lts-x86_64'],
      sixLinks('latest-lts-aarch64', 'latest-lts-x86_64')
    ],
    [
      'armbian-bcm2711',
      ['armbian-bcm2711-current', 'armbian-uefi-x86-edge'],
      sixLinks('armbian-bcm2711-current', 'armbian-uefi-x86-edge')
    ],
    [
      'armbian-uefi',
      ['armbian-uefi-arm64-edge', 'armbian-uefi-x86-edge'],
      sixLinks('armbian-uefi-arm64-edge', 'armbian-uefi-x86-edge')
    ],
    [
      'armbian-genio',
      ['armbian-genio-edge', 'armbian-uefi-x86-edge'],
      sixLinks('armbian-genio-edge', 'armbian-uefi-x86-edge')
    ],
    [
      'armbian-rockchip64-current',
      ['armbian-rockchip64-current', 'armbian-uefi-x86-edge'],
      sixLinks('armbian-rockchip64-current', 'armbian-uefi-x86-edge')
    ],
    [
      'lts-all',
      ALL_IDS.filter(id => id !== 'x86_64' && id !== 'aarch64'),
      sixLinks('latest-lts-aarch64', 'latest-lts-x86_64')
    ],
    [
      'default',
      ['x86_64', 'aarch64'],
      { 'vmlinuz-arm64': 'vmlinuz-aarch64', 'initramfs-arm64': 'initramfs-aarch64' }
    ]
  ])('%s: exactly the archives’ files and the standard links', async (variant, ids, links) => {
    const run = ok(await runAction({ inputs: inputs(variant) }))
    const bundleDir = run.outputs['bundle-dir']!
    expect(path.isAbsolute(bundleDir)).toBe(true)
    expect(bundleDir.startsWith(run.env['RUNNER_TEMP']!)).toBe(true)
    expect(await describeBundle(bundleDir)).toEqual(expected(ids, links))

    // The files output: one object per entry, links carry their target and its content.
    const files = JSON.parse(run.outputs['files']!) as Array<Record<string, unknown>>
    const want = expected(ids, links)
    expect(files.map(f => f['name'])).toEqual(Object.keys(want))
    for (const f of files) {
      const target = f['target'] as string | undefined
      const real = target ?? (f['name'] as string)
      const generated = ids.map(id => g.release.archives[id]!.files[real]).find(x => x)!
      expect(f).toEqual({
        name: f['name'],
        size: generated.size,
        sha256: generated.sha256,
        ...(target ? { target } : {})
      })
    }
    expect(run.outputs['version']).toBe('v0.11.1')
    expect(run.outputs['pushed']).toBe('false')
    expect(run.outputs['digest']).toBeUndefined()
    expect(run.errors).toEqual([])
    expect(run.summary).toContain(`Hook v0.11.1 ${variant}`)
    // The temporary staging and the downloaded tarballs are gone.
    expect(
      (await readdir(run.env['RUNNER_TEMP']!)).filter(n => !n.startsWith('hook-bundle-' + variant))
    ).toEqual([])
  })

  it('keeps the nested dtbs tarball of a board as it is', async () => {
    const run = ok(await runAction({ inputs: inputs('armbian-meson64') }))
    const dtbs = 'dtbs-armbian-meson64-edge.tar.gz'
    const bytes = await readFile(path.join(run.outputs['bundle-dir']!, dtbs))
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      g.release.archives['armbian-meson64-edge']!.files[dtbs]!.sha256
    )
    const listing = execFileSync('tar', ['-tzf', path.join(run.outputs['bundle-dir']!, dtbs)], {
      encoding: 'utf8'
    })
    expect(
      listing
        .split('\n')
        .filter(Boolean)
        .every(n => n.startsWith('dtbs-armbian-meson64-edge/'))
    ).toBe(true)
  })

  it('builds into the given bundle-dir', async () => {
    const target = path.join(g.dir, 'given', 'bundle')
    const run = ok(await runAction({ inputs: inputs('lts', { 'bundle-dir': target }) }))
    expect(run.outputs['bundle-dir']).toBe(target)
    expect(await listFiles(target)).toHaveLength(10)
    // Nothing of the partial build is left beside it.
    expect(await readdir(path.dirname(target))).toEqual(['bundle'])
  })
})

describe('the tool cache', () => {
  it('a second run on the same runner downloads no archive, only checksum.txt', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    g.server.resetRequests()
    const first = ok(await runAction({ inputs: inputs('armbian-bcm2711-all'), toolCache }))
    const archivesFetched = g.server.requests(/hook_.*\.tar\.gz$/).length
    expect(archivesFetched).toBe(10)
    expect(first.stdout).not.toContain('tool cache hit')

    g.server.resetRequests()
    const second = ok(await runAction({ inputs: inputs('armbian-bcm2711-all'), toolCache }))
    expect(g.server.requests().map(r => r.path)).toEqual([
      `/releases/${g.release.tag}/checksum.txt`
    ])
    expect(second.stdout.match(/tool cache hit/g)).toHaveLength(10)
    expect(await describeBundle(second.outputs['bundle-dir']!)).toEqual(
      await describeBundle(first.outputs['bundle-dir']!)
    )
    expect(second.outputs['files']).toBe(first.outputs['files'])

    // Entries are keyed by content: hook_<id>/0.0.0-sha512-<first 64 hex>/any, marked complete.
    const id = 'armbian-bcm2711-current'
    const version = `0.0.0-sha512-${g.release.assets[`hook_${id}.tar.gz`]!.sha512.slice(0, 64)}`
    expect(await readdir(path.join(toolCache, `hook_${id}`))).toEqual([version])
    expect(await readdir(path.join(toolCache, `hook_${id}`, version))).toEqual([
      'any',
      'any.complete'
    ])
  })

  it('archives of many half-megabyte pieces, of sizes no piece divides: every byte, hashed right', async () => {
    // The body and every file go through shared half-megabyte buffers (src/archives/shared-hash.ts):
    // gunzip, the files and both hashes read them in turn, and a file is written from two at
    // once. Odd sizes end pieces mid-buffer, mid-tar-block and mid-file.
    const big = await generateRelease(path.join(g.dir, 'releases'), {
      tag: 'v0.11.2',
      seed: 'many-pieces',
      ids: ['latest-lts-aarch64', 'latest-lts-x86_64'],
      kernelSize: 3 * (1 << 19) + 7,
      initramfsSize: 11 * (1 << 19) + 12345
    })
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const run = async () =>
      ok(await runAction({ inputs: { ...inputs('lts'), 'hook-version': big.tag }, toolCache }))
    const first = await run()
    const files = JSON.parse(first.outputs['files']!) as Array<{ name: string; sha256: string }>
    for (const id of ['latest-lts-aarch64', 'latest-lts-x86_64']) {
      for (const [name, f] of Object.entries(big.archives[id]!.files)) {
        const bundled = await readFile(path.join(first.outputs['bundle-dir']!, name))
        expect(bundled.length).toBe(f.size)
        expect(createHash('sha256').update(bundled).digest('hex')).toBe(f.sha256)
        expect(files.find(x => x.name === name)?.sha256).toBe(f.sha256)
      }
    }
    // The digests recorded in the tool cache are right: the next run proves every file against
    // them and downloads nothing.
    g.server.resetRequests()
    const second = await run()
    expect(g.server.requests().map(r => r.path)).toEqual([`/releases/${big.tag}/checksum.txt`])
    expect(second.outputs['files']).toBe(first.outputs['files'])
  })

  it('a damaged cache entry is never used: downloaded again, verified, and replaced', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    ok(await runAction({ inputs: inputs('lts'), toolCache }))
    const id = 'latest-lts-x86_64'
    const version = `0.0.0-sha512-${g.release.assets[`hook_${id}.tar.gz`]!.sha512.slice(0, 64)}`
    const entry = path.join(toolCache, `hook_${id}`, version, 'any')
    // A careless step (or a full disk) left a cached file short.
    await rm(path.join(entry, `vmlinuz-${id}`), { force: true })
    await writeFile(path.join(entry, `vmlinuz-${id}`), 'short')

    g.server.resetRequests()
    const second = ok(await runAction({ inputs: inputs('lts'), toolCache }))
    expect(second.warnings).toEqual([
      `hook_${id}.tar.gz: ignoring the damaged tool cache entry ${entry} (vmlinuz-${id} is not the recorded 4096 bytes); downloading again`
    ])
    expect(g.server.requests(/hook_.*\.tar\.gz$/).map(r => r.path)).toEqual([
      `/releases/${g.release.tag}/hook_${id}.tar.gz`
    ])
    const want = g.release.archives[id]!.files[`vmlinuz-${id}`]!.sha256
    expect((await describeBundle(second.outputs['bundle-dir']!))[`vmlinuz-${id}`]).toBe(want)

    // The entry was replaced by the verified copy: the next run is a clean hit.
    g.server.resetRequests()
    const third = ok(await runAction({ inputs: inputs('lts'), toolCache }))
    expect(third.warnings).toEqual([])
    expect(g.server.requests(/hook_.*\.tar\.gz$/)).toEqual([])
    expect((await describeBundle(third.outputs['bundle-dir']!))[`vmlinuz-${id}`]).toBe(want)
  })

  it('never serves stale bytes for the rolling latest tag: new bytes, new key', async () => {
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const base = { ...inputs('lts'), 'hook-version': 'latest' }
    const first = ok(await runAction({ inputs: base, toolCache }))
    const before = await describeBundle(first.outputs['bundle-dir']!)
    expect(before['vmlinuz-latest-lts-x86_64']).toBe(
      rolling.archives['latest-lts-x86_64']!.files['vmlinuz-latest-lts-x86_64']!.sha256
    )

    // hook re-uploads `latest` on every merge: same names, new bytes.
    const next = await generateRelease(path.join(g.dir, 'releases'), {
      tag: 'latest',
      seed: 'rolling-2'
    })
    g.server.resetRequests()
    const second = ok(await runAction({ inputs: base, toolCache }))
    expect(second.outputs['version']).toBe('latest')
    expect(g.server.requests(/hook_.*\.tar\.gz$/)).toHaveLength(2)
    const after = await describeBundle(second.outputs['bundle-dir']!)
    expect(after['vmlinuz-latest-lts-x86_64']).toBe(
      next.archives['latest-lts-x86_64']!.files['vmlinuz-latest-lts-x86_64']!.sha256
    )
    expect(after['vmlinuz-latest-lts-x86_64']).not.toBe(before['vmlinuz-latest-lts-x86_64'])
  })
})

describe('list mode (no variant)', () => {
  it('sets version and variants from checksum.txt alone and downloads no archive', async () => {
    g.server.resetRequests()
    const run = ok(await runAction({ inputs: inputs('') }))
    expect(g.server.requests().map(r => r.path)).toEqual([
      `/releases/${g.release.tag}/checksum.txt`
    ])
    const variants = JSON.parse(run.outputs['variants']!) as string[]
    expect(variants).toEqual([...variants].sort())
    expect(variants).toEqual(
      expect.arrayContaining([
        'lts',
        'lts-all',
        'default',
        'default-all',
        'armbian-uefi',
        'armbian-uefi-all',
        'armbian-bcm2711',
        'armbian-bcm2711-all',
        'armbian-genio',
        'armbian-genio-all',
        'armbian-rockchip64-edge',
        'armbian-rockchip64-current',
        'armbian-rockchip64-current-all'
      ])
    )
    expect(variants).not.toContain('armbian-rockchip64')
    expect(variants).toHaveLength(18)
    expect(run.outputs['version']).toBe('v0.11.1')
    expect(run.outputs['pushed']).toBe('false')
    expect(run.outputs['bundle-dir']).toBeUndefined()
    // Log and summary say which archives each variant would use.
    expect(run.stdout).toContain(
      '  armbian-genio: hook_armbian-genio-edge.tar.gz, hook_armbian-uefi-x86-edge.tar.gz'
    )
    expect(run.summary).toContain(
      '<td>armbian-genio</td><td>hook_armbian-genio-edge.tar.gz, hook_armbian-uefi-x86-edge.tar.gz</td>'
    )
  })
})
