import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { runAction, type ActionRun } from '../support/action.js'
import { generateRelease } from '../support/hook-release.js'
import { orasBinary } from '../support/oras-release.js'
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/registry.js'
import { startWorld, type World } from '../support/world.js'

// Issue 9: re-publishing costs nothing. Every run goes through a counting proxy in front of the
// real registry (its writes are the requests that are not GET or HEAD) and fetches the hook
// release from the loopback server (its requests are counted there); each run has a fresh tool
// cache, as a new GitHub-hosted runner would.

let world: World
const INPUTS_ANNOTATION = 'org.tinkerbell.hook.inputs'

beforeAll(async () => {
  world = await startWorld()
})

afterAll(async () => {
  await world?.stop()
})

let n = 0
function freshRepo(): string {
  return `hook/republish-${++n}`
}

/** A proxy that only counts, in front of the registry, for the whole of one test. */
async function withProxy<T>(
  fn: (proxy: FaultProxy) => Promise<T>,
  rules: FaultRule[] = []
): Promise<T> {
  const proxy = await startFaultProxy(world.registry.url, rules)
  try {
    return await fn(proxy)
  } finally {
    await proxy.stop()
  }
}

function publish(
  proxy: FaultProxy,
  repo: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {}
): Promise<ActionRun> {
  return runAction({
    inputs: { ...world.inputs('lts', extra), image: `${proxy.host}/${repo}` },
    env
  })
}

/** Registry writes since `from`: uploads and manifest PUTs. */
function writes(proxy: FaultProxy, from = 0): string[] {
  return proxy.requests.slice(from).filter(r => !/^(GET|HEAD) /.test(r))
}

/** Hook release assets fetched since the last reset (oras's own archive is not one). */
function releaseFetches(): string[] {
  return world.server.requests(/^\/releases\//).map(r => r.path)
}

async function tagsOf(repo: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const tag of (await world.registry.listTags(repo)).sort())
    out[tag] = (await world.registry.getManifest(repo, tag)).digest
  return out
}

function expectSuccess(run: ActionRun): void {
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] })
}

describe('skip-published', () => {
  it('the same inputs again on a fresh runner: only checksum.txt fetched, nothing written, same digest', async () => {
    await withProxy(async proxy => {
      const repo = freshRepo()
      const first = await publish(proxy, repo)
      expectSuccess(first)
      expect(first.outputs).toMatchObject({ pushed: 'true', skipped: 'false', 'moved-tags': '[]' })
      const manifest = await world.registry.getManifest(repo, 'v0.11.1-lts')
      expect(manifest.body.annotations[INPUTS_ANNOTATION]).toMatch(/^sha256:[0-9a-f]{64}$/)

      world.server.resetRequests()
      const seen = proxy.requests.length
      const again = await publish(proxy, repo)
      expectSuccess(again)
      expect(releaseFetches()).toEqual([`/releases/${world.release.tag}/checksum.txt`])
      expect(writes(proxy, seen)).toEqual([])
      expect(again.outputs).toMatchObject({
        digest: first.outputs['digest'],
        pushed: 'false',
        skipped: 'true',
        'moved-tags': '[]',
        tags: first.outputs['tags'],
        refs: first.outputs['refs'],
        image: first.outputs['image']
      })
      // No bundle was built, so there is none to point at.
      expect(again.outputs['bundle-dir']).toBeUndefined()
      expect(again.outputs['files']).toBeUndefined()
      expect(again.stdout).toContain(
        `${proxy.host}/${repo}:v0.11.1-lts: ${first.outputs['digest']}, built from the same inputs (${manifest.body.annotations[INPUTS_ANNOTATION]})`
      )
      expect(again.stdout).toContain(
        `every planned tag already points at ${first.outputs['digest']}, built from the same inputs: nothing downloaded, nothing pushed`
      )
      expect(again.summary).toContain('already published')
      expect(again.summary).toContain(first.outputs['digest'])
    })
  })

  it('latest: true while latest-* still name the previous release: only the moved tags are PUT', async () => {
    const previous = await generateRelease(path.join(world.dir, 'releases'), {
      tag: 'v0.11.0',
      seed: 'previous'
    })
    await withProxy(async proxy => {
      const repo = freshRepo()
      const old = await publish(proxy, repo, { 'hook-version': previous.tag, latest: 'true' })
      expectSuccess(old)
      const current = await publish(proxy, repo)
      expectSuccess(current)
      expect(await tagsOf(repo)).toMatchObject({
        latest: old.outputs['digest'],
        'latest-lts': old.outputs['digest']
      })

      world.server.resetRequests()
      const seen = proxy.requests.length
      const run = await publish(proxy, repo, { latest: 'true' })
      expectSuccess(run)
      expect(writes(proxy, seen).sort()).toEqual([
        `PUT /v2/${repo}/manifests/latest`,
        `PUT /v2/${repo}/manifests/latest-lts`
      ])
      expect(releaseFetches()).toEqual([`/releases/${world.release.tag}/checksum.txt`])
      expect(run.outputs).toMatchObject({
        digest: current.outputs['digest'],
        pushed: 'false',
        skipped: 'true',
        tags: JSON.stringify(['v0.11.1-lts', 'v0.11.1', 'latest-lts', 'latest']),
        'moved-tags': JSON.stringify(['latest-lts', 'latest'])
      })
      expect(await tagsOf(repo)).toEqual({
        latest: current.outputs['digest'],
        'latest-lts': current.outputs['digest'],
        'v0.11.1': current.outputs['digest'],
        'v0.11.1-lts': current.outputs['digest'],
        'v0.11.0': old.outputs['digest'],
        'v0.11.0-lts': old.outputs['digest']
      })
      expect(run.summary).toContain('latest-lts')
    })
  })

  it('the rolling latest release re-uploaded with one changed archive: a full build and push', async () => {
    const releases = path.join(world.dir, 'releases')
    const rolling = await generateRelease(releases, { tag: 'latest', seed: 'monday' })
    const rebuilt = await generateRelease(path.join(world.dir, 'rebuilt'), {
      tag: 'latest',
      seed: 'tuesday'
    })
    await withProxy(async proxy => {
      const repo = freshRepo()
      const first = await publish(proxy, repo, { 'hook-version': 'latest' })
      expectSuccess(first)

      // hook re-uploads one archive of its rolling release, and checksum.txt with it.
      const asset = 'hook_latest-lts-x86_64.tar.gz'
      await copyFile(rebuilt.assets[asset]!.path, rolling.assets[asset]!.path)
      const text = rolling.checksumText.replace(
        rolling.assets[asset]!.sha512,
        rebuilt.assets[asset]!.sha512
      )
      expect(text).not.toBe(rolling.checksumText)
      await writeFile(rolling.checksumPath, text)

      world.server.resetRequests()
      const seen = proxy.requests.length
      const run = await publish(proxy, repo, { 'hook-version': 'latest' })
      expectSuccess(run)
      expect(run.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      expect(run.outputs['digest']).not.toBe(first.outputs['digest'])
      expect(releaseFetches()).toContain(`/releases/latest/${asset}`)
      expect(writes(proxy, seen)).toContain(`PUT /v2/${repo}/manifests/latest-lts`)
      expect(writes(proxy, seen).some(w => w.startsWith('POST ') && w.includes('/blobs/'))).toBe(
        true
      )
      expect((await world.registry.getManifest(repo, 'latest-lts')).digest).toBe(
        run.outputs['digest']
      )
    })
  })

  it.each([
    ['annotations', { annotations: 'org.example.site=lab-2' }],
    ['artifact-type', { 'artifact-type': 'application/vnd.example.hook+tar' }],
    ['created', { created: '2030-01-02T03:04:05Z' }],
    ['format', { format: 'image' }],
    ['iso', { iso: 'true' }]
  ])('a different %s input: a full push that moves the tags', async (_, extra) => {
    await withProxy(async proxy => {
      const repo = freshRepo()
      const first = await publish(proxy, repo)
      expectSuccess(first)
      world.server.resetRequests()
      const seen = proxy.requests.length
      const run = await publish(proxy, repo, extra)
      expectSuccess(run)
      expect(run.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      expect(run.outputs['digest']).not.toBe(first.outputs['digest'])
      expect(run.stdout).toMatch(/:v0\.11\.1-lts: sha256:[0-9a-f]{64}, built from other inputs/)
      expect(writes(proxy, seen)).toContain(`PUT /v2/${repo}/manifests/v0.11.1-lts`)
      expect(releaseFetches().filter(p => p.endsWith('.tar.gz')).length).toBeGreaterThan(0)
      expect((await world.registry.getManifest(repo, 'v0.11.1-lts')).digest).toBe(
        run.outputs['digest']
      )
    })
  })

  it('extra-files: the same files skip; a changed file, or another file, is a full push', async () => {
    const workspace = await mkdtemp(path.join(world.dir, 'workspace-'))
    const env = { GITHUB_WORKSPACE: workspace }
    await writeFile(path.join(workspace, 'auto.ipxe'), '#!ipxe\nchain boot-1\n')
    await withProxy(async proxy => {
      const repo = freshRepo()
      const extra = { 'extra-files': 'auto.ipxe' }
      const first = await publish(proxy, repo, extra, env)
      expectSuccess(first)
      expect(first.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      const same = await publish(proxy, repo, extra, env)
      expectSuccess(same)
      expect(same.outputs).toMatchObject({ pushed: 'false', skipped: 'true' })

      await writeFile(path.join(workspace, 'auto.ipxe'), '#!ipxe\nchain boot-2\n')
      const changed = await publish(proxy, repo, extra, env)
      expectSuccess(changed)
      expect(changed.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      expect(changed.outputs['digest']).not.toBe(first.outputs['digest'])

      await writeFile(path.join(workspace, 'README.txt'), 'site notes\n')
      const more = await publish(proxy, repo, { 'extra-files': 'auto.ipxe\nREADME.txt' }, env)
      expectSuccess(more)
      expect(more.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      expect((await world.registry.getManifest(repo, 'v0.11.1-lts')).digest).toBe(
        more.outputs['digest']
      )
    })
  })

  it('a tag on a manifest something else pushed (no provenance): a full push that moves it', async () => {
    await withProxy(async proxy => {
      const repo = freshRepo()
      const file = path.join(world.dir, 'foreign.txt')
      await writeFile(file, 'not a hook bundle\n')
      const foreign = await oras(
        ['push', '--plain-http', `${world.registry.host}/${repo}:v0.11.1-lts`, 'foreign.txt'],
        world.dir
      )
      expect(foreign.code).toBe(0)
      const before = (await world.registry.getManifest(repo, 'v0.11.1-lts')).digest

      world.server.resetRequests()
      const run = await publish(proxy, repo)
      expectSuccess(run)
      expect(run.stdout).toContain(
        `${proxy.host}/${repo}:v0.11.1-lts: ${before}, not pushed by this action (no ${INPUTS_ANNOTATION} annotation)`
      )
      expect(run.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
      expect(run.outputs['digest']).not.toBe(before)
      expect((await world.registry.getManifest(repo, 'v0.11.1-lts')).digest).toBe(
        run.outputs['digest']
      )
    })
  })

  it('format image: the tags point at an index, whose annotations are read the same way', async () => {
    await withProxy(async proxy => {
      const repo = freshRepo()
      const first = await publish(proxy, repo, { format: 'image' })
      expectSuccess(first)
      const index = await world.registry.getManifest(repo, 'v0.11.1-lts')
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
      expect(index.body.annotations[INPUTS_ANNOTATION]).toMatch(/^sha256:/)
      for (const entry of index.body.manifests as Array<{ digest: string }>) {
        const platform = await world.registry.getManifest(repo, entry.digest)
        expect(platform.body.annotations[INPUTS_ANNOTATION]).toBe(
          index.body.annotations[INPUTS_ANNOTATION]
        )
      }

      world.server.resetRequests()
      const seen = proxy.requests.length
      const again = await publish(proxy, repo, { format: 'image' })
      expectSuccess(again)
      expect(writes(proxy, seen)).toEqual([])
      expect(releaseFetches()).toEqual([`/releases/${world.release.tag}/checksum.txt`])
      expect(again.outputs).toMatchObject({
        pushed: 'false',
        skipped: 'true',
        digest: first.outputs['digest'],
        platforms: first.outputs['platforms']
      })
    })
  })

  it('skip-published: false builds and pushes although everything is published', async () => {
    await withProxy(async proxy => {
      const repo = freshRepo()
      const first = await publish(proxy, repo)
      expectSuccess(first)
      world.server.resetRequests()
      const seen = proxy.requests.length
      const run = await publish(proxy, repo, { 'skip-published': 'false' })
      expectSuccess(run)
      expect(run.outputs).toMatchObject({
        pushed: 'true',
        skipped: 'false',
        digest: first.outputs['digest']
      })
      expect(releaseFetches().filter(p => p.endsWith('.tar.gz')).length).toBe(2)
      expect(writes(proxy, seen)).toContain(`PUT /v2/${repo}/manifests/v0.11.1-lts`)
    })
  })

  it('an oci-layout target is checked the same way', async () => {
    const layout = await mkdtemp(path.join(world.dir, 'layout-'))
    const inputs = { ...world.inputs('lts'), image: `oci-layout:${layout}` }
    const first = await runAction({ inputs })
    expectSuccess(first)
    expect(first.outputs).toMatchObject({ pushed: 'true', skipped: 'false' })
    const index = await readFile(path.join(layout, 'index.json'))
    world.server.resetRequests()
    const again = await runAction({ inputs })
    expectSuccess(again)
    expect(again.outputs).toMatchObject({
      pushed: 'false',
      skipped: 'true',
      digest: first.outputs['digest']
    })
    expect(releaseFetches()).toEqual([`/releases/${world.release.tag}/checksum.txt`])
    expect(await readFile(path.join(layout, 'index.json'))).toEqual(index)
  })
})

// The check only saves work: a read it cannot make is one warning, never a failure and never a
// skip. The bundle is built and pushed as if nothing were published (the same inputs, so the
// same digest, and the tags stay where they are).
describe('a doubt during the check: one warning, built and pushed, never skipped', () => {
  it.each<[string, FaultRule, RegExp]>([
    [
      '401',
      {
        method: 'GET',
        path: /\/manifests\/v/,
        status: 401,
        headers: {
          'www-authenticate': 'Basic realm="basic-realm"',
          'content-type': 'application/json'
        },
        body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
      },
      /^could not read what 127\.0\.0\.1:\d+\/hook\/republish-\d+:v0\.11\.1-lts holds \(.*401 unauthorized.*\); building and pushing as if nothing were published$/
    ],
    [
      '500',
      { method: 'GET', path: /\/manifests\/v/, status: 500 },
      /^could not read what 127\.0\.0\.1:\d+\/hook\/republish-\d+:v0\.11\.1-lts holds \(.*500.*\); building and pushing as if nothing were published$/
    ]
  ])('the registry answers %s to the check', async (_, rule, warning) => {
    const repo = freshRepo()
    let first: ActionRun | undefined
    await withProxy(async proxy => {
      first = await publish(proxy, repo, { annotations: 'org.example.run=first' })
      expectSuccess(first)
    })
    const before = await tagsOf(repo)
    await withProxy(
      async proxy => {
        world.server.resetRequests()
        const run = await publish(proxy, repo, {
          annotations: 'org.example.run=first',
          password: 'pa55-w0rd'
        })
        expectSuccess(run)
        expect(run.warnings).toEqual([expect.stringMatching(warning)])
        expect(run.outputs).toMatchObject({
          pushed: 'true',
          skipped: 'false',
          digest: first!.outputs['digest']
        })
        expect(releaseFetches().length).toBeGreaterThan(1)
      },
      [rule]
    )
    expect(await tagsOf(repo)).toEqual(before)
  })
})

/** The real oras run directly: "something else" pushing to the registry. */
function oras(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(orasBinary(), args, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: world.dir },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stderr }))
  })
}
