import { randomUUID } from 'node:crypto'
import {
  constants,
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  symlink
} from 'node:fs/promises'
import * as path from 'node:path'
import type { ArchiveContent, ArchiveFile } from '../archives/content.js'
import { ActionError, describeError } from '../util/errors.js'
import { hashFile, type ExtraFile } from './extra-files.js'
import { mapLimit } from '../util/format.js'
import type { BundlePlan } from '../release/variants.js'
import { compare } from '../util/compare.js'
import type { BundleEntry } from './entry.js'

export interface Bundle {
  dir: string
  entries: BundleEntry[]
  /** The operator's own files in the bundle (extra-files), as resolved before the downloads. */
  extraFiles: ExtraFile[]
  /** Newest entry time inside the bundle's archives, ms since the epoch. */
  newestMtime: number
}

/**
 * Lays out the bundle: every file of every archive, then the standard-name links. It is built
 * in a sibling directory and renamed into place at the end, so a failure never leaves a
 * half-built bundle where a later step (or a retry) would find it.
 */
export async function buildBundle(
  plan: BundlePlan,
  contents: ArchiveContent[],
  bundleDir: string,
  extraFiles: ExtraFile[] = []
): Promise<Bundle> {
  const dir = path.resolve(bundleDir)
  await checkBundleDir(dir)
  const partial = path.join(
    path.dirname(dir),
    `.${path.basename(dir)}.partial-${randomUUID().slice(0, 8)}`
  )
  try {
    await mkdir(partial, { recursive: true })
  } catch (err) {
    throw notWritable(dir, err)
  }
  try {
    const placed = new Map<string, { file: ArchiveFile; asset: string }>()
    for (const content of contents) {
      for (const file of content.files) {
        const other = placed.get(file.name)
        if (other) {
          if (other.file.sha256 === file.sha256) continue
          throw new ActionError(
            `${other.asset} and ${content.archive.asset} both contain ${file.name} with different bytes; refusing to pick one`
          )
        }
        await place(path.join(content.dir, file.name), path.join(partial, file.name))
        placed.set(file.name, { file, asset: content.archive.asset })
      }
    }
    for (const extra of extraFiles) {
      const other = placed.get(extra.name)
      if (other) {
        throw new ActionError(
          `extra-files: ${extra.path} would be ${extra.name} at the bundle root, which ${other.asset} also contains: rename the file`
        )
      }
      await placeExtra(extra, path.join(partial, extra.name))
      placed.set(extra.name, { file: extra, asset: extra.path })
    }
    const entries: BundleEntry[] = [...placed.values()].map(({ file }) => ({
      name: file.name,
      size: file.size,
      sha256: file.sha256
    }))
    for (const l of plan.links) {
      // A flavor that already ships the standard name (hook's default) keeps its real file.
      if (placed.has(l.name)) continue
      const target = placed.get(l.target)
      if (!target)
        throw new Error(`internal: link ${l.name} -> ${l.target} has no target in the bundle`)
      await symlink(l.target, path.join(partial, l.name))
      entries.push({
        name: l.name,
        size: target.file.size,
        sha256: target.file.sha256,
        target: l.target
      })
    }
    entries.sort((a, b) => compare(a.name, b.name))
    await moveIntoPlace(partial, dir)
    return {
      dir,
      entries,
      extraFiles,
      newestMtime: Math.max(0, ...contents.map(c => c.newestMtime))
    }
  } catch (err) {
    await rm(partial, { recursive: true, force: true })
    throw err
  }
}

/**
 * Refuses, before anything is downloaded, a bundle-dir the bundle could not be renamed onto:
 * a file, a non-empty directory, a symbolic link (rename would replace the link) or a mount
 * point (a mount point cannot be removed or renamed over).
 */
export async function checkBundleDir(bundleDir: string): Promise<void> {
  const dir = path.resolve(bundleDir)
  const link = await lstat(dir).catch(() => undefined)
  if (!link) return
  if (link.isSymbolicLink()) {
    const target = path.resolve(path.dirname(dir), await readlink(dir))
    throw new ActionError(
      `bundle-dir ${dir} is a symbolic link (to ${target}): the bundle is built beside it and renamed into place, which would replace the link; give the real directory (${target}) or a new path`
    )
  }
  if (!link.isDirectory()) {
    throw new ActionError(
      `bundle-dir ${dir} exists and is not a directory: give a new or empty directory, or leave bundle-dir empty`
    )
  }
  if (await isMountPoint(dir, link.dev)) {
    throw new ActionError(
      `bundle-dir ${dir} is a mount point: the bundle is built beside it and renamed into place, which a mount point cannot take; give a new directory inside it (e.g. ${path.join(dir, 'hook')}) or leave bundle-dir empty`
    )
  }
  if ((await readdir(dir)).length > 0) {
    throw new ActionError(
      `bundle-dir ${dir} is not empty: give a new or empty directory, or leave bundle-dir empty`
    )
  }
}

/** Another device than its parent's, or (a bind mount of the same file system) in the mount table. */
async function isMountPoint(dir: string, dev: number): Promise<boolean> {
  const parent = await stat(path.dirname(dir))
  if (parent.dev !== dev) return true
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
  const real = await realpath(dir)
  // Field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
  return table
    .split('\n')
    .map(line => line.split(' ')[4])
    .some(
      point =>
        point !== undefined &&
        point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) ===
          real
    )
}

function notWritable(dir: string, err: unknown): ActionError {
  const code = (err as NodeJS.ErrnoException).code ?? describeError(err)
  return new ActionError(
    `bundle-dir ${dir} cannot be created or written (${code}): choose a directory the runner can write, or leave bundle-dir empty`,
    { cause: err }
  )
}

/** A hard link costs nothing; across file systems (tool cache on another disk) copy instead. */
async function place(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest)
  } catch {
    await copyFile(source, dest, constants.COPYFILE_FICLONE)
  }
}

/**
 * A copy, never a link: the workspace stays the operator's to change, and the bundle keeps the
 * bytes that were hashed before the downloads (a change in between fails here, not in a push).
 */
async function placeExtra(extra: ExtraFile, dest: string): Promise<void> {
  await copyFile(extra.path, dest, constants.COPYFILE_FICLONE)
  const copied = await hashFile(dest)
  if (copied.sha256 !== extra.sha256 || copied.size !== extra.size) {
    throw new ActionError(
      `extra-files: ${extra.path} changed after it was hashed (before the downloads), so the bundle would not hold what was checked; nothing was pushed, run the step again without changing it`
    )
  }
}

async function moveIntoPlace(partial: string, dir: string): Promise<void> {
  try {
    await rmdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw notWritable(dir, err)
  }
  try {
    await rename(partial, dir)
  } catch (err) {
    throw notWritable(dir, err)
  }
}

/**
 * Proves, right before a push, that the directory still is the bundle that was verified: no
 * entry missing or extra, every link relative and resolving inside it, every file of the size
 * recorded at extraction. The files' bytes are not hashed again here: the push proves them as it
 * reads them, before any tag moves (an artifact's pushed layer digests are compared with the
 * recorded sha256, `checkPushedLayers`; an image's layer writer hashes the bytes it puts in each
 * layer, before anything is pushed). A third pass over every byte here cost about 0.2 s and
 * 0.4 CPU-s per 516 MiB on every push run, and two hashing threads' memory.
 */
export async function validateBundle(bundle: Bundle): Promise<void> {
  const fail = (what: string): ActionError =>
    new ActionError(
      `bundle ${bundle.dir} changed since it was built: ${what}; nothing was pushed, run the step again`
    )
  const names = new Set(bundle.entries.map(e => e.name))
  const present = await readdir(bundle.dir).catch(err => {
    throw fail(`it cannot be read (${describeError(err)})`)
  })
  for (const name of present) if (!names.has(name)) throw fail(`unexpected entry ${name}`)
  await mapLimit(bundle.entries, 4, async entry => {
    const where = path.join(bundle.dir, entry.name)
    const s = await lstat(where).catch(() => undefined)
    if (!s) throw fail(`${entry.name} is missing`)
    if (entry.target !== undefined) {
      const target = s.isSymbolicLink() ? await readlink(where) : undefined
      const real = bundle.entries.find(e => e.name === target && e.target === undefined)
      if (target !== entry.target || !real)
        throw fail(`${entry.name} no longer links to ${entry.target}`)
      return
    }
    if (!s.isFile() || s.size !== entry.size)
      throw fail(`${entry.name} is not the recorded ${entry.size}-byte file`)
  })
}
