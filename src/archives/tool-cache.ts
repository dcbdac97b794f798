import { randomUUID } from 'node:crypto'
import { link, mkdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import * as semver from 'semver'
import { describeError } from '../util/errors.js'

/**
 * A lock whose owner cannot be checked (another host sharing the cache, another PID namespace, a
 * lock without an owner record) is taken over only when it is older than this; writing an entry
 * takes seconds.
 */
const STALE_LOCK_MS = 15 * 60 * 1000

/** Written into the lock file: who holds it, so that a dead owner's lock is taken over at once. */
interface LockOwner {
  pid: number
  host: string
  /** The PID namespace: a pid means nothing across containers. */
  pidns: string
  /** Tells this holder's lock from a later holder's of the same name. */
  token: string
}

/**
 * Writes a tool cache entry at most once per runner. tc.cacheDir first deletes the entry it is
 * about to write, so two jobs caching the same entry at once would delete files under a third
 * job already using the first one's complete copy. Here only one job writes an entry (an atomic
 * mkdir lock beside it), and nobody rewrites a complete one. Returns the directory it wrote, or
 * undefined when it wrote nothing (the entry exists, or another job is writing it right now):
 * the caller then keeps using its own verified copy.
 */
async function cacheOnce(
  tool: string,
  version: string,
  arch: string,
  save: () => Promise<string>
): Promise<string | undefined> {
  if (tc.find(tool, version, arch) !== '') return undefined
  const lock = `${entryPath(tool, version, arch)}.lock`
  await mkdir(path.dirname(lock), { recursive: true })
  const owner = await takeLock(lock, `${tool} ${version}`)
  if (!owner) {
    core.info(`${tool} ${version}: another job is caching it, using this job's own copy`)
    return undefined
  }
  try {
    return tc.find(tool, version, arch) !== '' ? undefined : await save()
  } finally {
    await releaseLock(lock, owner)
  }
}

/** tc.cacheDir (a copy), once per runner. */
export function cacheDirOnce(
  source: string,
  tool: string,
  version: string,
  arch: string
): Promise<string | undefined> {
  return cacheOnce(tool, version, arch, () => tc.cacheDir(source, tool, version, arch))
}

/**
 * Like cacheDirOnce, but moves `source` into the entry instead of copying it: hundreds of MiB
 * of verified files need not be written twice. The layout is tool-cache's own
 * (`<tool>/<version>/<arch>` and the `.complete` marker written last, which is what tc.find
 * looks for), so tc.find serves the entry. Across file systems it falls back to tc.cacheDir.
 */
export function moveIntoCache(
  source: string,
  tool: string,
  version: string,
  arch: string
): Promise<string | undefined> {
  return cacheOnce(tool, version, arch, async () => {
    const entry = entryPath(tool, version, arch)
    // Whatever is there without a marker is what a crashed job left: not an entry.
    await rm(`${entry}.complete`, { force: true })
    await rm(entry, { recursive: true, force: true })
    await mkdir(path.dirname(entry), { recursive: true })
    try {
      await rename(source, entry)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
      return await tc.cacheDir(source, tool, version, arch)
    }
    await writeFile(`${entry}.complete`, '')
    return entry
  })
}

function entryPath(tool: string, version: string, arch: string): string {
  return path.join(
    process.env['RUNNER_TOOL_CACHE'] ?? '',
    tool,
    semver.clean(version) ?? version,
    arch
  )
}

/**
 * The lock is a file created atomically (a hard link to a fully written private file), holding
 * its owner. A job killed while holding it (SIGKILL, a crashed runner) leaves it behind; on the
 * same host and PID namespace a dead owner is certain (kill(pid, 0) answers ESRCH), so its lock
 * is taken over at once instead of turning caching off for that entry for 15 minutes. A reused
 * pid only makes a dead owner look alive: this job then keeps its own copy, which is safe.
 */
async function takeLock(lock: string, what: string): Promise<LockOwner | undefined> {
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    pidns: await pidNamespace(),
    token: randomUUID()
  }
  const mine = `${lock}.${me.token}`
  await writeFile(mine, JSON.stringify(me))
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(mine, lock)
        return me
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await readOwner(lock)
      const abandoned = await whyAbandoned(lock, holder, me)
      if (abandoned === undefined) return undefined
      if (!(await removeAbandoned(lock, holder))) return undefined
      core.info(`${what}: took over the lock of ${abandoned}`)
    }
    return undefined
  } finally {
    await rm(mine, { force: true })
  }
}

async function readOwner(lock: string): Promise<LockOwner | undefined> {
  try {
    const o = JSON.parse(await readFile(lock, 'utf8')) as Partial<LockOwner>
    if (
      Number.isSafeInteger(o.pid) &&
      typeof o.host === 'string' &&
      typeof o.pidns === 'string' &&
      typeof o.token === 'string'
    )
      return o as LockOwner
  } catch {
    // Unreadable (a lock directory of an older version of this action, or garbage): no owner.
  }
  return undefined
}

/** Who left the lock behind, or undefined while its owner may still be writing. */
async function whyAbandoned(
  lock: string,
  holder: LockOwner | undefined,
  me: LockOwner
): Promise<string | undefined> {
  if (holder && holder.host === me.host && holder.pidns === me.pidns && me.pidns !== '') {
    try {
      process.kill(holder.pid, 0)
      return undefined
    } catch (err) {
      // EPERM: the process exists under another user.
      return (err as NodeJS.ErrnoException).code === 'ESRCH'
        ? `job pid ${holder.pid}, which is gone`
        : undefined
    }
  }
  const s = await stat(lock).catch(() => undefined)
  if (!s || Date.now() - s.mtimeMs < STALE_LOCK_MS) return undefined
  return `a job that held it for over ${STALE_LOCK_MS / 60000} minutes`
}

/**
 * Moves the abandoned lock aside before deleting it, and checks that what it moved is the lock
 * it judged: another job may have taken the lock over in between, and its fresh lock must stay.
 */
async function removeAbandoned(lock: string, holder: LockOwner | undefined): Promise<boolean> {
  const aside = `${lock}.abandoned-${randomUUID()}`
  try {
    await rename(lock, aside)
  } catch {
    return false
  }
  const moved = await readOwner(aside)
  if (moved?.token !== holder?.token) {
    await link(aside, lock).catch(() => undefined)
    await rm(aside, { force: true })
    return false
  }
  await rm(aside, { recursive: true, force: true })
  return true
}

async function releaseLock(lock: string, owner: LockOwner): Promise<void> {
  try {
    // Only this job's own lock: never one taken over from it.
    if ((await readOwner(lock))?.token === owner.token) await rm(lock, { force: true })
  } catch (err) {
    core.debug(`lock ${lock}: ${describeError(err)}`)
  }
}

async function pidNamespace(): Promise<string> {
  return readlink('/proc/self/ns/pid').catch(() => '')
}
