import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  writeSync
} from 'node:fs'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import * as path from 'node:path'
import { listFiles, ok, runAction, type ActionRun } from '../support/action.js'
import { PINNED_SHA256 } from '../../src/publish/oras/releases.js'
import {
  ORAS_VERSION,
  buildOrasRelease,
  type BuildOrasReleaseOptions
} from '../support/oras-release.js'
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/registry.js'
import { startWorld, type World } from '../support/world.js'

// Issue 5, the push side: registry and oras faults against the real registry (behind a fault
// proxy where the registry itself cannot misbehave). Every failure: exit 1, one error line, the
// registry's tags exactly as they were, no credentials left anywhere, the password in no log
// line and no process argument.

const AUTH = { username: 'hook', password: 'pa55-Wrd-9f1c2e' }
let world: World
let home: string
const REPO = 'hook/faults'
let baseline: Record<string, string>

beforeAll(async () => {
  world = await startWorld({ auth: AUTH })
  home = await mkdtemp(path.join(world.dir, 'home-'))
  // What the registry holds before the faults: another variant under a shared extra tag, so a
  // half-done failing push would show as a moved tag.
  const first = await push(world.inputs('armbian-uefi', { tags: 'stable' }, REPO))
  expect(first.exitCode).toBe(0)
  baseline = await tagsOf(REPO)
})

afterAll(async () => {
  await world?.stop()
})

function push(
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): Promise<ActionRun> {
  return runAction({ inputs, env: { HOME: home, ...env }, watchArgv: [AUTH.password] })
}

/**
 * A push of `inputs` to `repo` through a fault proxy applying `rules`; the proxy is stopped
 * before this returns (its host stays in the error lines to compare).
 */
async function pushThrough(
  rules: FaultRule[],
  inputs: Record<string, string>,
  repo: string
): Promise<{ run: ActionRun; proxy: FaultProxy }> {
  const proxy = await startFaultProxy(world.registry.url, rules)
  try {
    return { run: await push({ ...inputs, image: `${proxy.host}/${repo}` }), proxy }
  } finally {
    await proxy.stop()
  }
}

async function tagsOf(repo: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const tag of (await world.registry.listTags(repo)).sort()) {
    out[tag] = (await world.registry.getManifest(repo, tag)).digest
  }
  return out
}

/** The failure contract, plus: registry untouched, nothing secret left behind. */
async function expectCleanFailure(run: ActionRun, repo = REPO, before = baseline): Promise<string> {
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({
    exitCode: 1,
    errors: [expect.any(String)]
  })
  expect(run.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/)
  expect(await tagsOf(repo)).toEqual(before)
  expectNoSecretLeft(run)
  return run.errors[0]!
}

function expectNoSecretLeft(run: ActionRun): void {
  // The only place the password may appear is the runner's own mask command.
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter(l => l.includes(AUTH.password))
  expect(lines).toEqual(
    run.exitCode === 0 || lines.length > 0
      ? lines.filter(l => l === `::add-mask::${AUTH.password}`)
      : []
  )
  expect(run.secretInArgv).toEqual([])
  expect(existsSync(path.join(home, '.docker', 'config.json'))).toBe(false)
}

/** Every file under the run's directories, the world's and HOME that holds `secret`. */
async function filesHolding(secret: string, run: ActionRun): Promise<string[]> {
  const roots = [
    world.dir,
    home,
    run.env['RUNNER_TEMP']!,
    run.env['RUNNER_TOOL_CACHE']!,
    run.env['GITHUB_WORKSPACE']!
  ]
  const hits: string[] = []
  for (const root of roots) {
    for (const file of await listFiles(root)) {
      const full = path.join(root, file)
      const bytes = await readFile(full).catch(() => Buffer.alloc(0))
      if (bytes.includes(secret)) hits.push(full)
    }
  }
  return hits
}

async function tempLeft(run: ActionRun): Promise<string[]> {
  return (await readdir(run.env['RUNNER_TEMP']!)).filter(n => !n.startsWith('hook-bundle-lts-'))
}

describe('credentials', () => {
  it('a good password: given to oras on stdin call by call, never written anywhere', async () => {
    const run = await push(world.inputs('lts', {}, 'hook/auth'))
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(`::add-mask::${AUTH.password}`)
    expect(run.stdout).not.toContain('logged in')
    expectNoSecretLeft(run)
    // The run's private directory (work files, annotation file) is gone; the bundle stays.
    expect(await tempLeft(run)).toEqual([])
    expect(await filesHolding(AUTH.password, run)).toEqual([])
    expect(await world.registry.listTags('hook/auth')).toContain('v0.11.1-lts')
  })

  // The skip check only saves work: a read it cannot make is a warning, never the failure.
  it('a wrong password: the check warns, the push fails in one line, nothing pushed', async () => {
    const run = await push(world.inputs('lts', { password: 'wrong-password' }, REPO))
    const error = await expectCleanFailure(run)
    expect(error).toBe(
      `${world.registry.host} rejected the credentials of "hook" (401 unauthorized) on push to ${world.registry.host}/${REPO}: check username and password`
    )
    expect(run.warnings).toEqual([
      expect.stringMatching(
        /^could not read what .* holds \(.*401 unauthorized.*\); building and pushing as if nothing were published$/
      )
    ])
    expect(await tempLeft(run)).toEqual([])
  })

  it('no password: pushes anonymously, which this registry refuses with a clear message', async () => {
    const run = await push(world.inputs('lts', { password: '' }, REPO))
    const error = await expectCleanFailure(run)
    expect(error).toMatch(
      new RegExp(
        `^${world.registry.host} requires credentials to push ${world.registry.host}/${REPO} and none were given \\(password is empty\\): set username and password`
      )
    )
  })
})

describe('bad input: refused before the network, nothing pushed', () => {
  it.each([
    [
      { image: 'ghcr.io/Octo-Org/Hook' },
      'image "ghcr.io/Octo-Org/Hook" has an invalid repository path'
    ],
    [{ image: `127.0.0.1:1/${REPO}:v1` }, 'must not contain a tag'],
    [{ tags: 'ok,not/ok' }, 'tag "not/ok" is not a valid tag'],
    [{ tags: 'x'.repeat(200) }, 'is not a valid tag'],
    [
      { annotations: 'org.example.no-equals-sign' },
      'annotations line 1 "org.example.no-equals-sign" is not key=value'
    ],
    [{ created: '01/02/2030' }, 'created "01/02/2030" is not an RFC 3339 time'],
    [{ 'oras-checksum': '' }, 'oras-url and oras-checksum go together'],
    [{ 'oras-version': '1.2.0' }, 'oras-version 1.2.0 is too old: the action needs 1.3.0 or newer']
  ])('%j', async (extra, message) => {
    world.server.resetRequests()
    const error = await expectCleanFailure(await push(world.inputs('lts', extra, REPO)))
    expect(error).toContain(message)
    expect(world.server.requests()).toEqual([])
  })
})

describe('registry faults', () => {
  let n = 0

  /**
   * A fresh repository holding another variant under the shared tag `stable`, then a push of
   * lts with `stable` through a proxy applying the rules: fresh, so every blob must really be
   * uploaded; `stable` shared, so a half-done push would show as a moved tag.
   */
  async function throughProxy(
    rules: FaultRule[]
  ): Promise<{ run: ActionRun; hits: number[]; repo: string; before: Record<string, string> }> {
    const repo = `hook/fault-${++n}`
    expect((await push(world.inputs('armbian-uefi', { tags: 'stable' }, repo))).exitCode).toBe(0)
    const before = await tagsOf(repo)
    const proxy = await startFaultProxy(world.registry.url, rules)
    try {
      const inputs = world.inputs('lts', { tags: 'stable' }, repo)
      inputs['image'] = `${proxy.host}/${repo}`
      const run = await push(inputs)
      return { run, hits: rules.map((_, i) => proxy.hits(i)), repo, before }
    } finally {
      await proxy.stop()
    }
  }

  it('registry down: fails after bounded retries naming the registry', async () => {
    const inputs = { ...world.inputs('lts', { password: '' }, REPO), image: `127.0.0.1:9/${REPO}` }
    const run = await push(inputs)
    const error = await expectCleanFailure(run)
    expect(error).toMatch(
      /^could not push to 127.0.0.1:9\/hook\/faults after 3 attempts: .*connection refused/i
    )
    // The skip check's one warning, then the push's two retries.
    expect(run.warnings).toEqual([
      expect.stringMatching(
        /^could not read what 127\.0\.0\.1:9\/hook\/faults:v0\.11\.1-lts holds/
      ),
      expect.stringMatching(/^oras push failed \(.*connection refused\); attempt 2 in 2 s$/),
      expect.stringMatching(/^oras push failed \(.*connection refused\); attempt 3 in 5 s$/)
    ])
  })

  it('500 on a blob upload once: oras retries it and the push lands', async () => {
    const { run, hits, repo } = await throughProxy([
      { method: 'POST', path: /\/blobs\/uploads\/$/, status: 500, times: 1 }
    ])
    expect(run.exitCode).toBe(0)
    expect(hits).toEqual([1])
    expect((await world.registry.getManifest(repo, 'stable')).digest).toBe(run.outputs['digest'])
  })

  it('500 on a blob PUT once (not replayable by oras): the action pushes again and lands', async () => {
    const { run, hits } = await throughProxy([
      { method: 'PUT', path: /\/blobs\/uploads\//, status: 500, times: 1 }
    ])
    expect(run.exitCode).toBe(0)
    expect(hits).toEqual([1])
    expect(run.warnings).toEqual([
      expect.stringMatching(/^oras push failed \(.*500.*\); attempt 2 in 2 s$/)
    ])
  })

  it('a connection reset during an upload: retried and lands', async () => {
    const { run } = await throughProxy([
      { method: 'PUT', path: /\/blobs\/uploads\//, action: 'reset', times: 1 }
    ])
    expect(run.exitCode).toBe(0)
  })

  // oras prints an error response with a JSON body by its codes alone, without the status; oras
  // itself tries a request six times, so the seventh answer is the registry's own.
  it.each([
    [500, 'UNKNOWN', 'unknown error'],
    [503, 'UNAVAILABLE', 'service unavailable'],
    [429, 'TOOMANYREQUESTS', 'too many requests']
  ])(
    '%i %s with a JSON body until oras gives up: the action pushes again and lands',
    async (status, code, message) => {
      const { run, hits, repo } = await throughProxy([
        {
          method: 'PUT',
          path: /\/manifests\//,
          status,
          body: JSON.stringify({ errors: [{ code, message }] }),
          headers: { 'content-type': 'application/json' },
          times: 6
        }
      ])
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(hits).toEqual([6])
      expect(run.warnings).toEqual([
        `oras push failed (Error response from registry: ${code.toLowerCase()}: ${message}); attempt 2 in 2 s`
      ])
      expect((await world.registry.getManifest(repo, 'stable')).digest).toBe(run.outputs['digest'])
    }
  )

  it('a connection cut halfway through a blob upload: retried and lands', async () => {
    const { run, hits, repo } = await throughProxy([
      {
        method: 'PUT',
        path: /\/blobs\/uploads\//,
        action: 'cut',
        cutAfter: 2048,
        minLength: 8192,
        times: 1
      }
    ])
    expect(run.exitCode).toBe(0)
    expect(hits).toEqual([1])
    expect((await world.registry.getManifest(repo, 'stable')).digest).toBe(run.outputs['digest'])
  })

  it('500 forever: fails clearly after the bounded retries, tags untouched', async () => {
    const { run, repo, before } = await throughProxy([
      { method: 'POST', path: /\/blobs\/uploads\/$/, status: 500 }
    ])
    const error = await expectCleanFailure(run, repo, before)
    expect(error).toMatch(
      /^could not push to 127\.0\.0\.1:\d+\/hook\/fault-\d+ after 3 attempts: .*500/
    )
  })

  it('403 on push: says what permission is missing, not retried', async () => {
    const { run, hits, repo, before } = await throughProxy([
      {
        method: 'POST',
        path: /\/blobs\/uploads\/$/,
        status: 403,
        body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
        headers: { 'content-type': 'application/json' }
      }
    ])
    const error = await expectCleanFailure(run, repo, before)
    expect(error).toMatch(
      /^127\.0\.0\.1:\d+ denied push to 127\.0\.0\.1:\d+\/hook\/fault-\d+ \(403\): the credentials lack push rights on that repository; /
    )
    expect(hits[0]).toBeLessThanOrEqual(5)
    expect(run.warnings).toEqual([])
  })

  it('the manifest rejected: fails naming the reason, not retried, tags untouched', async () => {
    const { run, hits, repo, before } = await throughProxy([
      {
        method: 'PUT',
        path: /\/manifests\//,
        status: 400,
        body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"nope"}]}',
        headers: { 'content-type': 'application/json' }
      }
    ])
    const error = await expectCleanFailure(run, repo, before)
    expect(error).toMatch(
      /^could not push to 127\.0\.0\.1:\d+\/hook\/fault-\d+: .*manifest invalid/
    )
    expect(hits).toEqual([1])
  })
})

// Issue 17 items 5 and 6: a registry that refuses one tag of several (a tag immutability rule,
// a protected tag) after others moved. The error and the outputs say exactly which tags moved.
describe('a tag refused part-way', () => {
  const denied = {
    status: 403,
    body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
  }
  // What ECR answers for an immutable tag, and what Harbor answers for a tag immutability rule.
  const ecr = (tag: string) => ({
    status: 400,
    body: `{"errors":[{"code":"TAG_INVALID","message":"The image tag '${tag}' already exists in the 'hook' repository and cannot be overwritten because the tag is immutable."}]}`
  })
  const harbor = (tag: string) => ({
    status: 412,
    body: `{"errors":[{"code":"PRECONDITION","message":"Failed to process request due to 'hook:${tag}' configured as immutable."}]}`
  })
  const REFUSALS: Array<[string, (tag: string) => { status: number; body: string }, RegExp]> = [
    ['403 DENIED', () => denied, /; Error response from registry: denied: requested access/],
    [
      '400 TAG_INVALID (ECR)',
      ecr,
      /; Error response from registry: tag invalid: .* cannot be overwritten because the tag is immutable\.$/
    ],
    [
      '412 PRECONDITION (Harbor)',
      harbor,
      /; Error response from registry: precondition: .* configured as immutable\.$/
    ]
  ]
  let n = 0

  /** A proxy refusing the manifest PUT of `tag` as `refusal` says. */
  function refusing(tag: string, refusal: { status: number; body: string }): FaultRule {
    return {
      method: 'PUT',
      path: new RegExp(`/manifests/${tag.replace(/\./g, '\\.')}$`),
      ...refusal,
      headers: { 'content-type': 'application/json' }
    }
  }

  it.each(REFUSALS)(
    'moving latest-lts and latest, latest refused (%s): latest-lts moved, and said so',
    async (_, refusal, detail) => {
      const repo = `hook/retag-${++n}`
      // lts published without latest: a run with latest moves latest-lts and latest to it.
      ok(await push(world.inputs('lts', {}, repo)))
      const before = await tagsOf(repo)
      const digest = before['v0.11.1-lts']!
      const { run, proxy } = await pushThrough(
        [refusing('latest', refusal('latest'))],
        world.inputs('lts', { latest: 'true' }, repo),
        repo
      )
      expect({ exitCode: run.exitCode, errors: run.errors.length }).toEqual({
        exitCode: 1,
        errors: 1
      })
      expect(await tagsOf(repo)).toEqual({ ...before, 'latest-lts': digest })
      const error = run.errors[0]!
      expect(error).toMatch(detail)
      expect(error).toContain(
        `refused tag latest in ${proxy.host}/${repo}, though this run's credentials had just moved latest-lts: the tag is likely immutable or protected there (a tag immutability or protection rule), not a missing push right; moved to ${digest}: latest-lts; not moved: latest; let the tag move or leave it out of tags, then run again`
      )
      expect(error).not.toContain('credentials lack')
      expect(run.outputs['digest']).toBe(digest)
      expect(JSON.parse(run.outputs['moved-tags']!)).toEqual(['latest-lts'])
      expect(JSON.parse(run.outputs['tags']!)).toEqual(['v0.11.1-lts', 'v0.11.1', 'latest-lts'])
      expect(run.outputs['pushed']).toBe('false')
      expectNoSecretLeft(run)
    }
  )

  it.each([
    ['image', ...REFUSALS[0]!],
    ['image', ...REFUSALS[1]!],
    ['artifact', ...REFUSALS[2]!]
  ] as const)(
    'format %s, tags v0.11.1-lts, v0.11.1, stable, stable refused (%s): two tags moved, and said so',
    async (format, _, refusal, detail) => {
      const repo = `hook/part-${++n}`
      // stable names another variant: it must stay there.
      ok(await push(world.inputs('armbian-uefi', { tags: 'stable', format }, repo)))
      const before = await tagsOf(repo)
      const { run, proxy } = await pushThrough(
        [refusing('stable', refusal('stable'))],
        world.inputs('lts', { tags: 'stable', format }, repo),
        repo
      )
      expect({ exitCode: run.exitCode, errors: run.errors.length }).toEqual({
        exitCode: 1,
        errors: 1
      })
      const after = await tagsOf(repo)
      const digest = after['v0.11.1-lts']!
      expect(digest).not.toBe(before['stable'])
      expect(after).toEqual({ ...before, 'v0.11.1-lts': digest, 'v0.11.1': digest })
      const error = run.errors[0]!
      expect(error).toMatch(detail)
      expect(error).toContain(
        `refused tag stable in ${proxy.host}/${repo}, though this run's credentials had just pushed ${digest} and moved v0.11.1-lts, v0.11.1: the tag is likely immutable or protected there (a tag immutability or protection rule), not a missing push right; moved to ${digest}: v0.11.1-lts, v0.11.1; not moved: stable; let the tag move or leave it out of tags, then run again`
      )
      expect(run.outputs['digest']).toBe(digest)
      expect(JSON.parse(run.outputs['tags']!)).toEqual(['v0.11.1-lts', 'v0.11.1'])
      expect(JSON.parse(run.outputs['refs']!)).toEqual([
        `${proxy.host}/${repo}:v0.11.1-lts`,
        `${proxy.host}/${repo}:v0.11.1`
      ])
      expect(run.outputs['pushed']).toBe('true')
      if (format === 'image') {
        const platforms = JSON.parse(run.outputs['platforms']!) as Record<string, string>
        const index = await world.registry.getManifest(repo, digest)
        expect(Object.values(platforms)).toEqual(
          (index.body as { manifests: Array<{ digest: string }> }).manifests.map(m => m.digest)
        )
      }
      expectNoSecretLeft(run)
    }
  )

  it('the first tag refused, nothing written before: the credentials, or an immutable tag', async () => {
    const repo = `hook/retag-${++n}`
    ok(await push(world.inputs('lts', {}, repo)))
    const before = await tagsOf(repo)
    const { run, proxy } = await pushThrough(
      [refusing('latest-lts', denied)],
      world.inputs('lts', { latest: 'true' }, repo),
      repo
    )
    const error = await expectCleanFailure(run, repo, before)
    expect(error).toContain(
      `${proxy.host} denied moving latest-lts in ${proxy.host}/${repo} (403): the credentials lack push rights on that repository, or the tag is immutable or protected there; moved to ${before['v0.11.1-lts']}: no tag; not moved: latest-lts, latest; `
    )
    expect(JSON.parse(run.outputs['moved-tags']!)).toEqual([])
  })
})

// Issue 17 item 7: the bytes pushed are the bytes checked. Bundle files are hard links into the
// tool cache, so a file can change after the last check (a writer to the cache entry).
describe('a bundle file rewritten after the check', () => {
  /** Changes the first byte of `file` in place (same inode, same size); returns both sha256s. */
  function rewrite(file: string): { before: string; after: string } {
    const sha = (): string => createHash('sha256').update(readFileSync(file)).digest('hex')
    const before = sha()
    const fd = openSync(file, 'r+')
    try {
      const byte = Buffer.alloc(1)
      readSync(fd, byte, 0, 1, 0)
      writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, 0)
    } finally {
      closeSync(fd)
    }
    return { before, after: sha() }
  }

  /** The bundle's regular files, in the bundle's order. */
  function regularFiles(bundleDir: string): string[] {
    return readdirSync(bundleDir)
      .sort()
      .filter(name => lstatSync(path.join(bundleDir, name)).isFile())
  }

  it('format artifact, rewritten as the first blob upload begins: no tag, both digests named', async () => {
    const repo = 'hook/rewritten-artifact'
    const bundleDir = path.join(await mkdtemp(path.join(world.dir, 'bundle-')), 'lts')
    let changed: { name: string; before: string; after: string } | undefined
    // The first blob upload: oras has hashed every file, none is uploaded yet.
    const proxy = await startFaultProxy(world.registry.url, [], {
      onRequest: (method, p) => {
        if (changed || method !== 'POST' || !/\/blobs\/uploads\/$/.test(p)) return
        const name = regularFiles(bundleDir).find(f => f.startsWith('vmlinuz-'))!
        changed = { name, ...rewrite(path.join(bundleDir, name)) }
      }
    })
    let run: ActionRun
    try {
      run = await push({
        ...world.inputs('lts', { 'bundle-dir': bundleDir }, repo),
        image: `${proxy.host}/${repo}`
      })
    } finally {
      await proxy.stop()
    }
    expect(changed).toBeDefined()
    const { name, before, after } = changed!
    const files = JSON.parse(run.outputs['files']!) as Array<{ name: string; sha256: string }>
    expect(files.find(f => f.name === name)!.sha256).toBe(before)
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({
      exitCode: 1,
      errors: [
        expect.stringMatching(
          new RegExp(
            `^bundle file ${name} changed after it was checked: pushed as sha256:${after} \\(\\d+ bytes\\), checked as sha256:${before} \\(\\d+ bytes\\); no tag was moved \\(sha256:[0-9a-f]{64} stays untagged\\); the bundle's files are hard links into the tool cache, so something wrote to ${bundleDir}/${name} or its tool cache entry: run the step again$`
          )
        )
      ]
    })
    expect(await world.registry.listTags(repo)).toEqual([])
    expect(run.outputs['digest']).toBeUndefined()
  })

  describe('format image', () => {
    let big: World
    beforeAll(async () => {
      // Files large enough that writing the layers takes a while after their directory appears.
      big = await startWorld({
        auth: AUTH,
        release: { kernelSize: 4 << 20, initramfsSize: 8 << 20 }
      })
    })
    afterAll(async () => {
      await big?.stop()
    })

    /**
     * Stops the action the moment the layer directory appears (after the bundle's last check),
     * rewrites a regular file whose layer is not written yet (no tarball, not open: the layer
     * writer creates the tarball before it opens the file), and lets it go on. Undefined when
     * every layer was already under way: that attempt proves nothing.
     */
    function rewriteWhenLayersBegin(
      child: ChildProcess,
      temp: string,
      bundleDir: string,
      done: (c: { name: string; before: string; after: string } | undefined) => void
    ): void {
      const timer = setInterval(() => {
        const run = readdirSync(temp).find(d => d.startsWith('hook-bundle-run-'))
        const layers = run && path.join(temp, run, 'image')
        if (!layers || !existsSync(layers)) return
        clearInterval(timer)
        child.kill('SIGSTOP')
        try {
          const started = new Set(readdirSync(layers))
          const open = new Set(
            readdirSync(`/proc/${child.pid}/fd`).map(fd => {
              try {
                return readlinkSync(`/proc/${child.pid}/fd/${fd}`)
              } catch {
                return ''
              }
            })
          )
          const name = regularFiles(bundleDir)
            .filter(f => !started.has(`${f}.tar`) && !open.has(path.join(bundleDir, f)))
            .pop()
          done(name === undefined ? undefined : { name, ...rewrite(path.join(bundleDir, name)) })
        } finally {
          child.kill('SIGCONT')
        }
      }, 1)
      child.once('close', () => clearInterval(timer))
    }

    it('rewritten as the layers are written: nothing pushed, both digests named', async () => {
      let changed: { name: string; before: string; after: string } | undefined
      let run: ActionRun | undefined
      let bundleDir = ''
      for (let attempt = 1; attempt <= 3 && !changed; attempt++) {
        const repo = `hook/rewritten-image-${attempt}`
        const temp = await mkdtemp(path.join(big.dir, 'runner-temp-'))
        bundleDir = path.join(await mkdtemp(path.join(big.dir, 'bundle-')), 'lts')
        run = await runAction({
          inputs: big.inputs('lts', { format: 'image', 'bundle-dir': bundleDir }, repo),
          temp,
          env: { HOME: home },
          onStart: child => rewriteWhenLayersBegin(child, temp, bundleDir, c => (changed = c))
        })
        if (changed) {
          expect(await big.registry.listTags(repo)).toEqual([])
          expect(await big.registry.catalog()).not.toContain(repo)
        }
      }
      expect(changed).toBeDefined()
      const { name, before, after } = changed!
      const files = JSON.parse(run!.outputs['files']!) as Array<{ name: string; sha256: string }>
      expect(files.find(f => f.name === name)!.sha256).toBe(before)
      expect({ exitCode: run!.exitCode, errors: run!.errors }).toEqual({
        exitCode: 1,
        errors: [
          expect.stringMatching(
            new RegExp(
              `^bundle file ${name} changed after it was checked: read for its layer as sha256:${after}, checked as sha256:${before}; nothing was pushed, no tag was moved; the bundle's files are hard links into the tool cache, so something wrote to ${bundleDir}/${name} or its tool cache entry: run the step again$`
            )
          )
        ]
      })
      expect(run!.outputs['digest']).toBeUndefined()
    })
  })
})

describe('oras faults', () => {
  it('the archive does not match the pinned sha256: refuses to run it, names both digests', async () => {
    const inputs = { ...world.inputs('lts', {}, REPO), 'oras-url': '', 'oras-checksum': '' }
    const toolCache = await mkdtemp(path.join(world.dir, 'tc-'))
    const run = await runAction({
      inputs,
      toolCache,
      env: { HOME: home, HOOK_BUNDLE_ORAS_MIRROR: world.orasMirror }
    })
    const error = await expectCleanFailure(run)
    expect(error).toBe(
      `oras archive ${world.orasMirror}/v${ORAS_VERSION}/${world.oras.assetName} failed verification: expected sha256 ${PINNED_SHA256[world.oras.assetName]}, got ${world.oras.sha256}; refusing to run it`
    )
    expect(await readdir(toolCache)).toEqual([])
  })

  it.each<[string, BuildOrasReleaseOptions, RegExp]>([
    [
      'without an oras binary',
      { omitBinary: true },
      /^oras archive \S+ holds no oras at its root; is oras-url the oras release archive\?$/
    ],
    [
      'whose oras exits non-zero',
      { brokenBinary: 'exit1' },
      /^oras at \S+ does not run \(exit 1\): something failed$/
    ],
    [
      'whose oras prints invalid JSON',
      { brokenBinary: 'badjson' },
      /^oras push printed no JSON result with a digest \(got ".*"\); the push state is unknown, check the registry and run again$/
    ]
  ])('an oras archive %s', async (what, opts, message) => {
    const dir = path.join(world.dir, 'oras', `broken-${what.replace(/\W+/g, '-')}`)
    const broken = await buildOrasRelease(dir, opts)
    const rel = path.relative(path.join(world.dir, 'oras'), broken.archivePath)
    const run = await push({
      ...world.inputs('lts', {}, REPO),
      'oras-url': `${world.orasMirror}/${rel}`,
      'oras-checksum': broken.sha256
    })
    if (opts.brokenBinary === 'badjson') {
      // oras itself pushed (the registry may have the manifest), but the action cannot tell
      // what, so it fails rather than report outputs it did not read.
      expect(run.exitCode).toBe(1)
      expect(run.errors).toEqual([expect.stringMatching(message)])
      expectNoSecretLeft(run)
      baseline = await tagsOf(REPO)
      return
    }
    const error = await expectCleanFailure(run)
    expect(error).toMatch(message)
  })
})

// Issue 10 item 3: the runner sends SIGINT on cancel and timeout (SIGTERM 7.5 s later). The
// step must stop oras, remove what it made in RUNNER_TEMP, and leave the password nowhere.
describe('cancellation', () => {
  const MESSAGE = (signal: string): string =>
    `cancelled (${signal}): stopped oras and removed this run's temporary files`

  /** Runs the action and sends it `signal` as soon as `when()` holds. */
  function cancelWhen(
    signal: NodeJS.Signals,
    inputs: Record<string, string>,
    when: () => boolean
  ): Promise<ActionRun> {
    return runAction({
      inputs,
      env: { HOME: home },
      watchArgv: [AUTH.password],
      onStart: child => {
        const timer = setInterval(() => {
          if (!when()) return
          clearInterval(timer)
          child.kill(signal)
        }, 20)
        child.once('close', () => clearInterval(timer))
      }
    })
  }

  /** Processes still running the oras installed in that tool cache. */
  async function orasAlive(toolCache: string): Promise<string[]> {
    const alive: string[] = []
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      if (cmdline.includes(toolCache)) alive.push(cmdline.replace(/\0/g, ' '))
    }
    return alive
  }

  async function expectCancelled(run: ActionRun, signal: string, repo: string): Promise<void> {
    expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({
      exitCode: signal === 'SIGINT' ? 130 : 143,
      errors: [MESSAGE(signal)]
    })
    expect(await readdir(run.env['RUNNER_TEMP']!)).toEqual([])
    expect(await orasAlive(run.env['RUNNER_TOOL_CACHE']!)).toEqual([])
    expect(await filesHolding(AUTH.password, run)).toEqual([])
    expectNoSecretLeft(run)
    expect(await world.registry.listTags(repo)).toEqual([])
  }

  it('SIGINT mid-push: oras stopped, RUNNER_TEMP empty, no password on disk, no tag', async () => {
    const repo = 'hook/cancel-push'
    const proxy = await startFaultProxy(world.registry.url, [
      { method: 'PUT', path: /\/blobs\/uploads\//, action: 'hang' }
    ])
    try {
      const inputs = { ...world.inputs('lts', {}, repo), image: `${proxy.host}/${repo}` }
      const run = await cancelWhen('SIGINT', inputs, () => proxy.hits(0) > 0)
      await expectCancelled(run, 'SIGINT', repo)
    } finally {
      await proxy.stop()
    }
  })

  it('SIGTERM mid-download: the partial archive and the work files are removed', async () => {
    const repo = 'hook/cancel-download'
    // One archive never finishes: the step is surely mid-download when the signal comes, with
    // the other archive already in the run's files.
    const stop = world.server.fault({ path: /hook_latest-lts-aarch64\.tar\.gz$/, kind: 'hang' })
    try {
      let since = 0
      const run = await cancelWhen('SIGTERM', world.inputs('lts', {}, repo), () => {
        if (world.server.openResponses() === 0) return false
        since ||= Date.now()
        return Date.now() - since > 300
      })
      await expectCancelled(run, 'SIGTERM', repo)
    } finally {
      stop()
    }
  })
})
