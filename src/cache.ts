import { mkdir, rmdir, stat } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import * as semver from 'semver'
import { describeError } from './errors.js'

/** A lock older than this belongs to a job that died; anything real takes seconds. */
const STALE_LOCK_MS = 15 * 60 * 1000

/**
 * tc.cacheDir, made safe for parallel jobs on one self-hosted runner. cacheDir first deletes
 * the entry it is about to write, so two jobs caching the same entry at once would delete files
 * under a third job that already uses the first one's complete copy. Here only one job writes
 * an entry (an atomic mkdir lock beside it), and nobody rewrites an entry that is complete.
 * Returns the cached directory, or undefined when another job is caching it right now: the
 * caller then keeps using its own verified copy.
 */
export async function cacheDirOnce(
  source: string,
  tool: string,
  version: string,
  arch: string
): Promise<string | undefined> {
  const existing = tc.find(tool, version, arch)
  if (existing !== '') return existing
  const root = process.env['RUNNER_TOOL_CACHE'] ?? ''
  const lock = path.join(root, tool, `${semver.clean(version) ?? version}-${arch}.lock`)
  await mkdir(path.dirname(lock), { recursive: true })
  if (!(await takeLock(lock))) {
    core.info(`${tool} ${version}: another job is caching it, using this job's own copy`)
    return undefined
  }
  try {
    const raced = tc.find(tool, version, arch)
    if (raced !== '') return raced
    return await tc.cacheDir(source, tool, version, arch)
  } finally {
    await rmdir(lock).catch((err: unknown) => core.debug(`lock ${lock}: ${describeError(err)}`))
  }
}

async function takeLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(lock)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const s = await stat(lock).catch(() => undefined)
      if (!s || Date.now() - s.mtimeMs < STALE_LOCK_MS) return false
      await rmdir(lock).catch(() => undefined)
    }
  }
  return false
}
