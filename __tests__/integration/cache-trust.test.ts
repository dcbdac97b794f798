import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  writeFile
} from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { ok, runAction, type ActionRun } from '../support/action.js'
import { ORAS_VERSION } from '../support/oras-release.js'
import { startWorld, type World } from '../support/world.js'

// Issue 10 items 1 and 7: nothing in the tool cache is trusted. On a self-hosted runner every
// job can write it, so a hit is served only after proving it holds the bytes recorded when they
// were verified; a damaged entry is evicted and fetched again, and neither a damaged entry that
// cannot be removed nor a tool cache that cannot be written fails a run.

let world: World
const ID = 'latest-lts-x86_64'
const ASSET = `hook_${ID}.tar.gz`
/** What the action runs as when permissions must matter and the tests run as root. */
const NOBODY = { uid: 65534, gid: 65534 }
const AS_ROOT = process.getuid?.() === 0

/**
 * Runs the action unable to write `readOnly` (directories of a tool cache): as root, whom
 * permissions do not stop, it runs as nobody (the directories stay root's); otherwise as this
 * user with the directories made read-only for the run.
 */
async function runReadOnly(
  opts: Parameters<typeof runAction>[0],
  readOnly: string[]
): Promise<ActionRun> {
  if (AS_ROOT) return runAction({ ...opts, user: NOBODY })
  for (const dir of readOnly) await chmod(dir, 0o555)
  try {
    return await runAction(opts)
  } finally {
    for (const dir of readOnly) await chmod(dir, 0o755)
  }
}

beforeAll(async () => {
  world = await startWorld()
})

afterAll(async () => {
  await world?.stop()
})

function build(extra: Record<string, string> = {}): Record<string, string> {
  return { ...world.inputs('lts'), push: 'false', ...extra }
}

/** A tool cache another user can read but not write, as a shared self-hosted runner has. */
async function sharedToolCache(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hook-shared-tc-'))
  await chmod(dir, 0o755)
  return dir
}

function entryOf(toolCache: string): string {
  const sha512 = world.release.assets[ASSET]!.sha512
  return path.join(toolCache, `hook_${ID}`, `0.0.0-sha512-${sha512.slice(0, 64)}`, 'any')
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

const KERNEL = `vmlinuz-${ID}`
const INITRAMFS = `initramfs-${ID}`

/** Same size, one byte different: what a size check cannot see. */
async function flipOneByte(file: string): Promise<void> {
  const bytes = await readFile(file)
  bytes[100] = bytes[100]! ^ 0xff
  // The read-only mode stops nobody who owns the file (or is root).
  await chmod(file, 0o644)
  await writeFile(file, bytes)
}

/** What the files output says each entry holds (links: their target's bytes). */
function stated(run: ActionRun): Record<string, string> {
  const files = JSON.parse(run.outputs['files']!) as Array<{ name: string; sha256: string }>
  return Object.fromEntries(files.map(f => [f.name, f.sha256]))
}

async function bundleDigests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort())
    out[name] = sha256(await readFile(path.join(dir, name)))
  return out
}

describe('a cached archive is proved on every hit', () => {
  const record = (entry: string): string => path.join(entry, '.hook-archive.json')
  it.each<[string, (entry: string) => Promise<string>]>([
    [
      'one byte of a file changed, same size',
      async entry => {
        await flipOneByte(path.join(entry, INITRAMFS))
        const want = world.release.archives[ID]!.files[INITRAMFS]!.sha256
        return `${INITRAMFS} no longer has the recorded sha256 ${want}`
      }
    ],
    [
      'the record changed (a file’s recorded sha256)',
      async entry => {
        const r = JSON.parse(await readFile(record(entry), 'utf8')) as {
          files: Array<{ name: string; sha256: string }>
        }
        const forged = 'f'.repeat(64)
        r.files.find(f => f.name === KERNEL)!.sha256 = forged
        await writeFile(record(entry), JSON.stringify(r))
        return `${KERNEL} no longer has the recorded sha256 ${forged}`
      }
    ],
    [
      'the record missing',
      async entry => {
        await rm(record(entry))
        return 'its record cannot be read (ENOENT)'
      }
    ],
    [
      'the record unreadable',
      async entry => {
        await rm(record(entry))
        await mkdir(record(entry))
        return 'its record cannot be read (EISDIR)'
      }
    ],
    [
      'the record not JSON',
      async entry => {
        await writeFile(record(entry), '{"asset":')
        return 'its record is not JSON'
      }
    ],
    [
      'a file missing',
      async entry => {
        await rm(path.join(entry, KERNEL))
        return `${KERNEL} is missing`
      }
    ],
    [
      'a file replaced by a directory',
      async entry => {
        await rm(path.join(entry, KERNEL))
        await mkdir(path.join(entry, KERNEL))
        return `${KERNEL} is not the recorded 4096 bytes`
      }
    ]
  ])('%s: evicted, downloaded again, verified, replaced', async (_what, damage) => {
    const toolCache = await mkdtemp(path.join(world.dir, 'tc-'))
    const first = ok(await runAction({ inputs: build(), toolCache }))
    const entry = entryOf(toolCache)
    const why = await damage(entry)

    world.server.resetRequests()
    const second = ok(await runAction({ inputs: build(), toolCache }))
    expect(second.warnings).toEqual([
      `${ASSET}: ignoring the damaged tool cache entry ${entry} (${why}); downloading again`
    ])
    expect(world.server.requests(/hook_.*\.tar\.gz$/).map(r => r.path)).toEqual([
      `/releases/${world.release.tag}/${ASSET}`
    ])
    // The files output states what the bytes are, and they are the release's.
    expect(second.outputs['files']).toBe(first.outputs['files'])
    // (The first run's bundle hard-links the cache, so a cache write changed it too.)
    expect(await bundleDigests(second.outputs['bundle-dir']!)).toEqual(stated(first))
    expect(stated(first)[INITRAMFS]).toBe(world.release.archives[ID]!.files[INITRAMFS]!.sha256)

    // The verified copy replaced the entry: the next run is a clean hit.
    world.server.resetRequests()
    const third = ok(await runAction({ inputs: build(), toolCache }))
    expect(third.warnings).toEqual([])
    expect(world.server.requests(/hook_.*\.tar\.gz$/)).toEqual([])
    expect(third.stdout).toContain(`${ASSET}: tool cache hit`)
  })

  it('a damaged entry this job may not remove fails neither this run nor the next', async () => {
    const toolCache = await sharedToolCache()
    const first = ok(await runAction({ inputs: build(), toolCache }))
    const entry = entryOf(toolCache)
    await flipOneByte(path.join(entry, INITRAMFS))
    const want = world.release.archives[ID]!.files[INITRAMFS]!.sha256
    for (let i = 0; i < 2; i++) {
      const run = ok(await runReadOnly({ inputs: build(), toolCache }, [path.dirname(entry)]))
      expect(run.warnings).toEqual([
        `${ASSET}: the damaged tool cache entry ${entry} (${INITRAMFS} no longer has the recorded sha256 ${want}) cannot be removed (EACCES); downloading again and using this run's verified copy: remove the entry or let the runner's user write the tool cache`
      ])
      expect(run.outputs['files']).toBe(first.outputs['files'])
      expect(await bundleDigests(run.outputs['bundle-dir']!)).toEqual(stated(first))
    }
  })
})

describe('a cached oras is proved on every hit', () => {
  let pushes = 0
  /** Fills a tool cache with one push; returns the cached binary. */
  async function cachedOras(toolCache: string, repository: string): Promise<string> {
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { 'skip-published': 'false' }, repository),
        toolCache
      })
    )
    return run.outputs['oras-path']!
  }

  it.each<[string, (binary: string, marker: string) => Promise<RegExp>]>([
    [
      'a replaced binary',
      async (binary, marker) => {
        // What a hostile job would leave: it runs, and would receive the password.
        await rm(binary)
        await writeFile(binary, `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 })
        return /^oras has sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}$/
      }
    ],
    [
      'a record bound to another archive',
      async binary => {
        const file = path.join(path.dirname(binary), '.hook-oras.json')
        const r = JSON.parse(await readFile(file, 'utf8')) as { archiveSha256: string }
        r.archiveSha256 = '0'.repeat(64)
        await writeFile(file, JSON.stringify(r))
        return /^its record was made for another archive than sha256 [0-9a-f]{64}$/
      }
    ],
    [
      'no record (an entry from an older version of the action)',
      async binary => {
        await rm(path.join(path.dirname(binary), '.hook-oras.json'))
        return /^its record cannot be read \(ENOENT\)$/
      }
    ]
  ])('%s: never run, evicted, installed again', async (what, damage) => {
    const toolCache = await mkdtemp(path.join(world.dir, 'tc-'))
    const repository = `hook/oras-${++pushes}`
    const binary = await cachedOras(toolCache, repository)
    const marker = path.join(world.dir, `ran-${what.replace(/\W+/g, '-')}`)
    const why = await damage(binary, marker)

    world.server.resetRequests()
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { 'skip-published': 'false' }, repository),
        toolCache
      })
    )
    const entry = path.dirname(binary)
    const prefix = `oras ${ORAS_VERSION}-sha256-${world.oras.sha256.slice(0, 32)}: ignoring the damaged tool cache entry ${entry} (`
    expect(run.warnings).toHaveLength(1)
    expect(run.warnings[0]!.startsWith(prefix)).toBe(true)
    expect(run.warnings[0]!.endsWith('); never running it, installing again')).toBe(true)
    expect(
      run.warnings[0]!.slice(prefix.length, -'); never running it, installing again'.length)
    ).toMatch(why)
    await expect(stat(marker)).rejects.toThrow()
    expect(world.server.requests(/\/oras\//)).toHaveLength(1)
    expect(run.outputs['oras-path']).toBe(binary)
    expect(run.outputs['pushed']).toBe('true')

    world.server.resetRequests()
    const again = ok(await runAction({ inputs: world.inputs('lts', {}, repository), toolCache }))
    expect(again.warnings).toEqual([])
    expect(world.server.requests(/\/oras\//)).toEqual([])
  })
})

describe('a tool cache this job cannot write costs only the cache', () => {
  it('oras and the archives are verified, used from the run’s own copy, and pushed', async () => {
    const toolCache = await sharedToolCache()
    const run = ok(
      await runReadOnly({ inputs: world.inputs('lts', {}, 'hook/readonly-cache'), toolCache }, [
        toolCache
      ])
    )
    expect(run.outputs['pushed']).toBe('true')
    const warnings = [...run.warnings].sort()
    expect(warnings).toHaveLength(3)
    expect(warnings[0]).toMatch(
      /^hook_latest-lts-aarch64\.tar\.gz: could not save to the tool cache: EACCES: permission denied, mkdir '[^']+'; this run uses its own verified copy, the next one downloads again$/
    )
    expect(warnings[1]).toMatch(
      /^hook_latest-lts-x86_64\.tar\.gz: could not save to the tool cache: EACCES: permission denied, mkdir '[^']+'; this run uses its own verified copy, the next one downloads again$/
    )
    expect(warnings[2]).toMatch(
      /^oras \d+\.\d+\.\d+-sha256-[0-9a-f]{32}: could not save to the tool cache: EACCES: permission denied, mkdir '[^']+'; this run uses its own verified copy, the next one downloads again$/
    )
    expect(await readdir(toolCache)).toEqual([])
    // The oras it ran (and put on PATH for later steps) is the verified copy in RUNNER_TEMP.
    expect(run.outputs['oras-path']!.startsWith(run.env['RUNNER_TEMP']!)).toBe(true)
  })
})

// Issue 10 item 8: a lock left by a killed job used to turn caching off for its entry for 15
// minutes. The lock names its owner; a dead owner on this host is certain, so it is taken over.
describe('a lock left by a killed job', () => {
  async function leaveLock(toolCache: string, pid: number): Promise<string> {
    const lock = `${entryOf(toolCache)}.lock`
    await mkdir(path.dirname(lock), { recursive: true })
    const pidns = await readlink('/proc/self/ns/pid')
    await writeFile(lock, JSON.stringify({ pid, host: os.hostname(), pidns, token: 'left-behind' }))
    return lock
  }

  it('is taken over at once when its owner is gone: the entry is cached', async () => {
    const toolCache = await mkdtemp(path.join(world.dir, 'tc-'))
    const dead = spawnSync('true').pid!
    await leaveLock(toolCache, dead)
    const run = ok(await runAction({ inputs: build(), toolCache }))
    const version = path.basename(path.dirname(entryOf(toolCache)))
    expect(run.stdout).toContain(
      `hook_${ID} ${version}: took over the lock of job pid ${dead}, which is gone`
    )
    expect(await readdir(path.dirname(entryOf(toolCache)))).toEqual(['any', 'any.complete'])
    world.server.resetRequests()
    ok(await runAction({ inputs: build(), toolCache }))
    expect(world.server.requests(/hook_.*\.tar\.gz$/)).toEqual([])
  })

  it('is respected while its owner lives: that job is writing the entry', async () => {
    const toolCache = await mkdtemp(path.join(world.dir, 'tc-'))
    const lock = await leaveLock(toolCache, process.pid)
    const run = ok(await runAction({ inputs: build(), toolCache }))
    const version = path.basename(path.dirname(entryOf(toolCache)))
    expect(run.stdout).toContain(
      `hook_${ID} ${version}: another job is caching it, using this job's own copy`
    )
    expect(await readdir(path.dirname(entryOf(toolCache)))).toEqual(['any.lock'])
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ token: 'left-behind' })
  })
})
