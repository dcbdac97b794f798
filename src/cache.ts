import { mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import * as semver from 'semver'
import { describeError } from './errors.js'

/** A lock older than this belongs to a job that died; anything real takes seconds. */
const STALE_LOCK_MS = 15 * 60 * 1000

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
  if (!(await takeLock(lock))) {
    core.info(`${tool} ${version}: another job is caching it, using this job's own copy`)
    return undefined
  }
  try {
    return tc.find(tool, version, arch) !== '' ? undefined : await save()
  } finally {
    await rmdir(lock).catch((err: unknown) => core.debug(`lock ${lock}: ${describeError(err)}`))
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
