import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import tar from 'tar-stream'
import { ok, runAction, type ActionRun } from '../support/action.js'
import { chainId, startContainerd, type Containerd } from '../support/containerd.js'
import { SEED_IDS, STANDARD_NAMES } from '../support/hook-release.js'
import { orasBinary } from '../support/oras-release.js'
import { startFaultProxy, type FaultRule } from '../support/registry.js'
import { startWorld, type World } from '../support/world.js'

// Issue 12, format image, against a real consumer: the action pushes to the loopback registry,
// Debian's containerd pulls and unpacks each platform, and the unpacked tree is compared with
// the release. Everything else is read back through the registry's HTTP API.

const VERSION = 'v0.11.1'
const REPO = 'hook/images'
const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const
const LTS_ARM = 'latest-lts-aarch64'
const LTS_X86 = 'latest-lts-x86_64'

interface Expected {
  ids: string[]
  arm: string
  x86: string
}

// What each tested variant is made of (variants.ts's catalog, written out independently).
const EXPECTED: Record<string, Expected> = {
  lts: { ids: [LTS_ARM, LTS_X86], arm: LTS_ARM, x86: LTS_X86 },
  'armbian-bcm2711': {
    ids: ['armbian-bcm2711-current', 'armbian-uefi-x86-edge'],
    arm: 'armbian-bcm2711-current',
    x86: 'armbian-uefi-x86-edge'
  },
  'lts-all': {
    ids: SEED_IDS.filter(id => id !== 'x86_64' && id !== 'aarch64'),
    arm: LTS_ARM,
    x86: LTS_X86
  }
}
const VARIANTS = Object.keys(EXPECTED)

let world: World
let containerd: Containerd
const runs = new Map<string, ActionRun>()
let namespaces = 0

const sha256 = (b: Buffer | string): string =>
  'sha256:' + createHash('sha256').update(b).digest('hex')

function imageInputs(variant: string, extra: Record<string, string> = {}): Record<string, string> {
  return world.inputs(variant, { format: 'image', ...extra }, REPO)
}

beforeAll(async () => {
  // Files large enough that tar headers and manifests stay well under 1 % of the stored bytes.
  world = await startWorld({
    release: { ids: SEED_IDS, kernelSize: 1 << 20, initramfsSize: 2 << 20 }
  })
  containerd = await startContainerd()
  for (const variant of VARIANTS)
    runs.set(variant, await runAction({ inputs: imageInputs(variant) }))
}, 240000)

afterAll(async () => {
  await containerd?.stop()
  await world?.stop()
})

interface Manifest {
  mediaType: string
  config: { mediaType: string; digest: string; size: number }
  layers: Array<{ mediaType: string; digest: string; size: number }>
  annotations: Record<string, string>
  artifactType?: string
}
interface ImageConfig {
  architecture: string
  os: string
  created: string
  config: { Labels: Record<string, string> }
  rootfs: { type: string; diff_ids: string[] }
}

async function platformImage(
  ref: string,
  platform: string,
  repo = REPO
): Promise<{ digest: string; manifest: Manifest; config: ImageConfig }> {
  const index = await world.registry.getManifest(repo, ref)
  const [os, architecture] = platform.split('/')
  const entry = (
    index.body.manifests as Array<{
      digest: string
      platform: { os: string; architecture: string }
    }>
  ).find(m => m.platform.os === os && m.platform.architecture === architecture)!
  const manifest = (await world.registry.getManifest(repo, entry.digest)).body as Manifest
  const config = JSON.parse(
    (await world.registry.getBlob(repo, manifest.config.digest)).toString()
  ) as ImageConfig
  return { digest: entry.digest, manifest, config }
}

/** The tree the release says the variant's image holds: name → file sha256 or link target. */
function expectedTree(variant: string): Map<string, { sha256?: string; link?: string }> {
  const e = EXPECTED[variant]!
  const tree = new Map<string, { sha256?: string; link?: string }>()
  for (const id of e.ids) {
    for (const [name, f] of Object.entries(world.release.archives[id]!.files))
      tree.set(name, { sha256: f.sha256 })
  }
  for (const kind of ['vmlinuz', 'initramfs']) {
    tree.set(`${kind}-x86_64`, { link: `${kind}-${e.x86}` })
    for (const arch of ['arm64', 'aarch64'])
      tree.set(`${kind}-${arch}`, { link: `${kind}-${e.arm}` })
  }
  return tree
}

/** Compares an unpacked tree with the expected one: files byte for byte, links verbatim. */
async function expectTree(
  dir: string,
  want: Map<string, { sha256?: string; link?: string }>
): Promise<string[]> {
  const have = (await readdir(dir)).sort()
  expect(have).toEqual([...want.keys()].sort())
  for (const [name, e] of want) {
    const where = path.join(dir, name)
    const s = await lstat(where)
    if (e.link !== undefined) {
      expect(s.isSymbolicLink()).toBe(true)
      expect(await readlink(where)).toBe(e.link)
    } else {
      expect(s.isFile()).toBe(true)
      expect(sha256(await readFile(where)).slice(7)).toBe(e.sha256)
    }
  }
  return have
}

/** Pulls one platform into a fresh namespace and returns the unpacked directory. */
async function pullAndUnpack(
  ref: string,
  platform: string,
  repo = REPO
): Promise<{ dir: string; ns: string }> {
  const ns = `t${++namespaces}`
  const pulled = await containerd.pull(ns, `${world.registry.host}/${repo}:${ref}`, platform)
  if (pulled.code !== 0) throw new Error(`ctr pull failed: ${pulled.stderr}${pulled.stdout}`)
  const { config } = await platformImage(ref, platform, repo)
  return { dir: await containerd.unpacked(ns, config.rootfs.diff_ids), ns }
}

describe('format image: containerd pulls and unpacks every platform', () => {
  it('every run pushed an index and reported its platforms', async () => {
    for (const [variant, run] of runs) {
      ok(run)
      const index = await world.registry.getManifest(REPO, `${VERSION}-${variant}`)
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
      expect(run.outputs['digest']).toBe(index.digest)
      const platforms = JSON.parse(run.outputs['platforms']!) as Record<string, string>
      expect(Object.keys(platforms)).toEqual([...PLATFORMS])
      for (const p of PLATFORMS)
        expect(platforms[p]).toBe((await platformImage(`${VERSION}-${variant}`, p)).digest)
      for (const tag of JSON.parse(run.outputs['tags']!) as string[])
        expect((await world.registry.getManifest(REPO, tag)).digest).toBe(index.digest)
    }
  })

  it.each(VARIANTS.flatMap(v => PLATFORMS.map(p => [v, p] as const)))(
    '%s on %s: the exact files of the release and real relative links, nothing else',
    async (variant, platform) => {
      const ref = `${VERSION}-${variant}`
      const { dir, ns } = await pullAndUnpack(ref, platform)
      const want = expectedTree(variant)
      const have = await expectTree(dir, want)
      expect(have.filter(n => want.get(n)!.link !== undefined)).toEqual([...STANDARD_NAMES])

      // The platform's own config, with the right architecture, is what containerd fetched.
      const mine = await platformImage(ref, platform)
      const other = await platformImage(
        ref,
        PLATFORMS.find(p => p !== platform)!
      )
      expect(`${mine.config.os}/${mine.config.architecture}`).toBe(platform)
      const content = await containerd.content(ns)
      expect(content).toContain(mine.manifest.config.digest)
      expect(content).not.toContain(other.manifest.config.digest)
    }
  )

  it('platform manifests differ only in the config architecture; config, labels, layers as planned', async () => {
    const run = runs.get('lts')!
    const ref = `${VERSION}-lts`
    const index = await world.registry.getManifest(REPO, ref)
    const amd = await platformImage(ref, 'linux/amd64')
    const arm = await platformImage(ref, 'linux/arm64')
    expect(amd.manifest.layers).toEqual(arm.manifest.layers)
    expect(amd.manifest.annotations).toEqual(arm.manifest.annotations)
    expect({ ...amd.config, architecture: 'x' }).toEqual({ ...arm.config, architecture: 'x' })
    // image-spec 1.0 manifests: an image config, no artifactType
    expect(amd.manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(amd.manifest.artifactType).toBeUndefined()
    expect(amd.manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json')
    expect(
      amd.manifest.layers.every(l => l.mediaType === 'application/vnd.oci.image.layer.v1.tar')
    ).toBe(true)
    // uncompressed layers: diff_ids are the layer digests
    expect(amd.config.rootfs).toEqual({
      type: 'layers',
      diff_ids: amd.manifest.layers.map(l => l.digest)
    })
    expect(amd.config.created).toBe(amd.manifest.annotations['org.opencontainers.image.created'])
    expect(amd.config.config.Labels).toEqual(amd.manifest.annotations)
    expect(index.body.annotations).toEqual(amd.manifest.annotations)
    expect(amd.manifest.annotations['org.tinkerbell.hook.variant']).toBe('lts')

    // One deterministic tar per entry, at the root: uid/gid 0, no names, fixed mode and time.
    const files = JSON.parse(run.outputs['files']!) as Array<{ name: string; target?: string }>
    expect(amd.manifest.layers).toHaveLength(files.length)
    for (const [i, f] of files.entries()) {
      const blob = await world.registry.getBlob(REPO, amd.manifest.layers[i]!.digest)
      const entries = await readTar(blob)
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({
        name: f.name,
        type: f.target ? 'symlink' : 'file',
        mode: f.target ? 0o777 : 0o644,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        mtime: new Date(0)
      })
      if (f.target) expect(entries[0]!.linkname).toBe(f.target)
    }
  })

  it('the registry stores each distinct file once across lts, lts-all and a board', async () => {
    const unique = new Map<string, number>()
    for (const variant of VARIANTS) {
      for (const f of JSON.parse(runs.get(variant)!.outputs['files']!) as Array<{
        sha256: string
        size: number
        target?: string
      }>)
        if (!f.target) unique.set(f.sha256, f.size)
    }
    const uniqueBytes = [...unique.values()].reduce((a, b) => a + b, 0)
    const blobs = path.join(world.registry.rootDir, 'docker/registry/v2/blobs/sha256')
    let stored = 0
    for (const e of await readdir(blobs, { recursive: true, withFileTypes: true }))
      if (e.isFile() && e.name === 'data')
        stored += (await lstat(path.join(e.parentPath, e.name))).size
    expect(stored).toBeGreaterThanOrEqual(uniqueBytes)
    expect(stored / uniqueBytes).toBeLessThanOrEqual(1.01)
  })

  it('is reproducible: two fresh runners give the same index digest', async () => {
    const again = ok(await runAction({ inputs: imageInputs('lts', { tags: 'again' }) }))
    const first = runs.get('lts')!
    expect(Object.keys(JSON.parse(again.outputs['platforms']!) as object)).toEqual([...PLATFORMS])
    expect(again.outputs['platforms']).toBe(first.outputs['platforms'])
    expect(again.outputs['digest']).toBe(first.outputs['digest'])
    expect((await world.registry.getManifest(REPO, 'again')).digest).toBe(first.outputs['digest'])
  })

  it('pushes into an OCI image layout with no registry', async () => {
    const layout = path.join(await mkdtemp(path.join(world.dir, 'layout-')), 'oci')
    const run = ok(
      await runAction({ inputs: { ...imageInputs('lts'), image: `oci-layout:${layout}` } })
    )
    // Same bytes as in the registry: the same index digest.
    expect(run.outputs['digest']).toBe(runs.get('lts')!.outputs['digest'])
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ mediaType: string; digest: string; annotations?: Record<string, string> }>
    }
    const tagged = index.manifests.filter(m => m.annotations?.['org.opencontainers.image.ref.name'])
    expect(tagged.map(m => m.annotations!['org.opencontainers.image.ref.name']).sort()).toEqual(
      (JSON.parse(run.outputs['tags']!) as string[]).sort()
    )
    expect(new Set(tagged.map(m => m.digest))).toEqual(new Set([run.outputs['digest']]))
    expect(new Set(tagged.map(m => m.mediaType))).toEqual(
      new Set(['application/vnd.oci.image.index.v1+json'])
    )
  })
})

describe('format image with iso: true and extra-files', () => {
  const EXTRA_REPO = 'hook/with-extras'
  const extras = new Map([
    ['auto.ipxe', '#!ipxe\nchain http://boot.example/${mac}\n'],
    ['SITE-README.txt', 'served by the lab boot server\n']
  ])
  let run: ActionRun

  beforeAll(async () => {
    const ws = await mkdtemp(path.join(world.dir, 'workspace-'))
    await mkdir(path.join(ws, 'boot'))
    await writeFile(path.join(ws, 'boot', 'auto.ipxe'), extras.get('auto.ipxe')!)
    await writeFile(path.join(ws, 'SITE-README.txt'), extras.get('SITE-README.txt')!)
    run = ok(
      await runAction({
        inputs: imageInputs('lts', {
          iso: 'true',
          'extra-files': 'boot/*.ipxe\nSITE-README.txt',
          image: `${world.registry.host}/${EXTRA_REPO}`
        }),
        env: { GITHUB_WORKSPACE: ws }
      })
    )
  }, 120000)

  it.each(PLATFORMS)(
    'lts on %s: the release files, its ISOs and the extra files',
    async platform => {
      const { dir } = await pullAndUnpack(`${VERSION}-lts`, platform, EXTRA_REPO)
      const want = expectedTree('lts')
      for (const id of EXPECTED['lts']!.ids) {
        const iso = world.release.isos[id]!
        want.set(iso.asset, { sha256: iso.sha256 })
      }
      for (const [name, text] of extras) want.set(name, { sha256: sha256(text).slice(7) })
      await expectTree(dir, want)
      expect(Object.keys(JSON.parse(run.outputs['platforms']!) as object)).toEqual([...PLATFORMS])
    }
  )
})

describe('tags move only at the end', () => {
  async function tagsOf(repo: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const t of await world.registry.listTags(repo))
      out[t] = (await world.registry.getManifest(repo, t)).digest
    return out
  }

  // A published lts image, then a re-publish with new bytes (another annotation) that fails.
  async function failingRepublish(repo: string, rules: FaultRule[]) {
    ok(await runAction({ inputs: world.inputs('lts', { format: 'image' }, repo) }))
    const before = await tagsOf(repo)
    const proxy = await startFaultProxy(world.registry.url, rules)
    try {
      const inputs = world.inputs(
        'lts',
        { format: 'image', annotations: 'org.example.rev=2' },
        repo
      )
      inputs['image'] = `${proxy.host}/${repo}`
      const run = await runAction({ inputs })
      return { run, before, after: await tagsOf(repo), hits: rules.map((_, i) => proxy.hits(i)) }
    } finally {
      await proxy.stop()
    }
  }

  it('the first tag refused once the index is pushed leaves every tag where it was', async () => {
    const { run, before, after, hits } = await failingRepublish('hook/index-refused', [
      { method: 'PUT', path: /\/manifests\/v0\.11\.1-lts$/, status: 403, body: '{}' }
    ])
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    // The index went in untagged with these credentials: the refusal is the tag's own rule.
    const digest = run.outputs['digest']!
    expect(run.errors[0]).toMatch(
      new RegExp(
        `refused tag v0\\.11\\.1-lts in .*hook/index-refused, though this run's credentials had just pushed ${digest}: the tag is likely immutable or protected there .*; moved to ${digest}: no tag; not moved: v0\\.11\\.1-lts, v0\\.11\\.1;`
      )
    )
    expect(JSON.parse(run.outputs['tags']!)).toEqual([])
    expect(hits[0]).toBe(1)
    expect(Object.keys(before).length).toBeGreaterThan(1)
    expect(after).toEqual(before)
  })

  it('a failed platform push leaves every tag where it was', async () => {
    const { run, before, after, hits } = await failingRepublish('hook/platform-failed', [
      { method: 'PUT', path: /\/manifests\/sha256:/, status: 400, body: '{}', times: 1 }
    ])
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(hits[0]).toBe(1)
    expect(after).toEqual(before)
    expect(run.outputs['digest']).toBeUndefined()
  })

  // The second platform's manifest is made here from the first's and pushed by digest.
  it('the second platform manifest refused: fails in one line, every tag where it was', async () => {
    const { run, before, after, hits } = await failingRepublish('hook/second-refused', [
      {
        method: 'PUT',
        path: /\/manifests\/sha256:/,
        status: 400,
        body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}',
        headers: { 'Content-Type': 'application/json' },
        after: 1,
        times: 1
      }
    ])
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/manifest invalid/)
    expect(run.stdout).toMatch(/linux\/amd64: image manifest sha256:[0-9a-f]{64} pushed untagged/)
    expect(run.stdout).not.toMatch(/linux\/arm64: image manifest/)
    expect(hits[0]).toBe(1)
    expect(after).toEqual(before)
    expect(run.outputs['digest']).toBeUndefined()
  })

  it('the second platform manifest answered 500 until oras gives up: pushed again, lands, as planned', async () => {
    // Six answers use up oras-go's own retries: the manifest lands on the action's second call.
    const { run, before, after, hits } = await failingRepublish('hook/second-retried', [
      {
        method: 'PUT',
        path: /\/manifests\/sha256:/,
        status: 500,
        body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'unknown error' }] }),
        headers: { 'Content-Type': 'application/json' },
        after: 1,
        times: 6
      }
    ])
    ok(run)
    expect(hits[0]).toBe(6)
    expect(run.warnings.some(w => w.startsWith('oras manifest push failed'))).toBe(true)
    expect(after).not.toEqual(before)
    const platforms = JSON.parse(run.outputs['platforms']!) as Record<string, string>
    const arm = await platformImage('v0.11.1-lts', 'linux/arm64', 'hook/second-retried')
    expect(arm.digest).toBe(platforms['linux/arm64'])
    expect(arm.config.architecture).toBe('arm64')
  })
})

describe('the consumer check can fail', () => {
  it('containerd refuses an image whose config has a wrong diff_id', async () => {
    const dir = await mkdtemp(path.join(world.dir, 'bad-'))
    const layer = await tarOf('hello', Buffer.from('hello\n'))
    await writeFile(path.join(dir, 'layer.tar'), layer)
    const wrong = sha256(Buffer.concat([layer, Buffer.alloc(512)]))
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [wrong] }
      })
    )
    const pushed = await runOras(dir, [
      'push',
      '--plain-http',
      '--config',
      'config.json:application/vnd.oci.image.config.v1+json',
      `${world.registry.host}/hook/bad:wrong-diff-id`,
      'layer.tar:application/vnd.oci.image.layer.v1.tar'
    ])
    expect(pushed.code).toBe(0)
    const r = await containerd.pull(
      'bad1',
      `${world.registry.host}/hook/bad:wrong-diff-id`,
      'linux/amd64'
    )
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/wrong diff id calculated on extraction/)
    expect(
      (await containerd.ctr(['-n', 'bad1', 'snapshots', '--snapshotter', 'native', 'ls'])).stdout
    ).not.toContain(chainId([wrong]))
  })

  it('containerd cannot unpack the artifact format', async () => {
    const run = ok(await runAction({ inputs: world.inputs('lts', {}, 'hook/artifact') }))
    expect(run.outputs['platforms']).toBeUndefined()
    const r = await containerd.pull(
      'art1',
      `${world.registry.host}/hook/artifact:${VERSION}-lts`,
      'linux/amd64'
    )
    expect(r.code).not.toBe(0)
    // The empty config has no rootfs for the octet-stream layers.
    expect(r.stderr).toContain('ctr: mismatched image rootfs and manifest layers')
  })
})

async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const pack = tar.pack()
  pack.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

async function readTar(buf: Buffer): Promise<Array<tar.Header>> {
  const extract = tar.extract()
  const out: tar.Header[] = []
  const done = (async () => {
    for await (const entry of extract as AsyncIterable<{ header: tar.Header; resume(): void }>) {
      out.push(entry.header)
      entry.resume()
    }
  })()
  extract.end(buf)
  await done
  return out
}

function runOras(cwd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(orasBinary(), args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stderr }))
  })
}
