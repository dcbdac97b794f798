import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, realpath, stat } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as glob from '@actions/glob'
import { SAFE_NAME } from '../release/checksums.js'
import { ActionError, describeError } from '../util/errors.js'
import { bytes } from '../util/format.js'
import { compare } from '../util/compare.js'
import { IMAGE_NAME_MAX } from './entry.js'

/** One of the operator's own files, placed at the bundle root under `name`. */
export interface ExtraFile {
  /** Base name in the bundle. */
  name: string
  /** Absolute path of the bytes in the workspace (a link's target, when the match is a link). */
  path: string
  size: number
  sha256: string
}

/**
 * Matches the patterns in the workspace and hashes every file, before anything is downloaded,
 * so that a typo, a collision or a file that cannot be served fails in seconds. Each include
 * pattern must match something; `!` patterns exclude from every include. A match must be a
 * regular file, or a link to one, inside the workspace; its base name must be new to the
 * bundle (`reserved`: every name the release's files, links and assets can have) and to the
 * other matches. With `imageLayers` (format: image, pushed) a name must also leave room for the
 * `.tar` of its layer file, or the push would fail after the downloads with ENAMETOOLONG.
 *
 * Decisions (issue 17):
 * - A file with several hard links is accepted, even when another of its names lies outside
 *   the workspace. A hard link has no target: every name is the file itself, and this one is
 *   in the workspace, where whoever made it could as well have copied the bytes there. What is
 *   served is what was hashed here: the bundle gets a copy, re-hashed after copying
 *   (bundle.ts), so a write through another name in between fails the step instead of
 *   publishing unchecked bytes. (A symbolic link is different: it names another path, and is
 *   refused when that path is outside the workspace.)
 * - No size limit: a big file is a legitimate choice (a disk image), and any bound would be
 *   arbitrary; the registry's own limits are the ones that matter. But what is pushed is dense:
 *   the layer tarball of format: image (and the copies made for the push) hold every byte of
 *   the apparent size, so a sparse file costs far more disk than it occupies (issue 17
 *   measured about 12 GiB of RUNNER_TEMP for a sparse 4 GiB file with format: image). A large
 *   sparse file is therefore named in a warning, before anything is downloaded.
 */
export async function resolveExtraFiles(
  patterns: string[],
  workspace: string,
  reserved: ReadonlySet<string>,
  opts: { imageLayers?: boolean } = {}
): Promise<ExtraFile[]> {
  if (patterns.length === 0) return []
  const root = await realpath(workspace).catch(err => {
    throw new ActionError(
      `extra-files: the workspace ${workspace} cannot be read (${describeError(err)}); set GITHUB_WORKSPACE or run from the directory holding the files`
    )
  })
  const absolute = (p: string): string => (path.isAbsolute(p) ? p : path.join(root, p))
  const excludes = patterns.filter(p => p.startsWith('!')).map(p => `!${absolute(p.slice(1))}`)
  const byPath = new Map<string, string>()
  for (const pattern of patterns.filter(p => !p.startsWith('!'))) {
    const globber = await glob.create([absolute(pattern), ...excludes].join('\n'), {
      // A link is judged by where it leads, below, not walked through.
      followSymbolicLinks: false,
      implicitDescendants: false,
      matchDirectories: true
    })
    const matches = await globber.glob()
    if (matches.length === 0) {
      throw new ActionError(
        `extra-files pattern ${JSON.stringify(pattern)} matches no file in the workspace ${root}: fix the pattern or remove it`
      )
    }
    for (const match of matches) if (!byPath.has(match)) byPath.set(match, pattern)
  }

  const files: ExtraFile[] = []
  const names = new Map<string, string>()
  for (const [match, pattern] of [...byPath].sort(([a], [b]) => compare(a, b))) {
    const source = await regularFileInside(match, pattern, root)
    const name = path.basename(match)
    const bad = (why: string): ActionError =>
      new ActionError(`extra-files: ${match} (pattern ${JSON.stringify(pattern)}) ${why}`)
    if (!SAFE_NAME.test(name)) {
      throw bad(
        `has the name ${JSON.stringify(name)}: bundle names may only use A-Z a-z 0-9 . _ - and not start with . or -; rename the file`
      )
    }
    const length = Buffer.byteLength(name)
    if (opts.imageLayers && length > IMAGE_NAME_MAX) {
      throw bad(
        `has a name of ${length} bytes, more than the ${IMAGE_NAME_MAX} that format: image allows (it writes each bundle file as <name>.tar, and a file name has at most 255 bytes): rename the file`
      )
    }
    if (reserved.has(name)) {
      throw bad(
        `would be ${name} at the bundle root, a name the release's files already use: rename the file`
      )
    }
    const other = names.get(name)
    if (other !== undefined) {
      throw bad(
        `and ${other} would both be ${name} at the bundle root: the bundle is flat, rename one or narrow the patterns`
      )
    }
    names.set(name, match)
    files.push({ name, path: source, ...(await hashFile(source)) })
  }
  return files.sort((a, b) => compare(a.name, b.name))
}

/** Sparse files from this size on are named in a warning (see resolveExtraFiles). */
const SPARSE_WARNING_BYTES = 64 << 20

/** The path of the bytes to serve for `match`: the file, or the file a link leads to. */
async function regularFileInside(match: string, pattern: string, root: string): Promise<string> {
  const bad = (why: string): ActionError =>
    new ActionError(`extra-files: ${match} (pattern ${JSON.stringify(pattern)}) ${why}`)
  const own = await lstat(match)
  let source = match
  if (own.isSymbolicLink()) {
    source = await realpath(match).catch(() => {
      throw bad('is a broken symbolic link: point it at a file or remove it from the patterns')
    })
    if (!inside(source, root)) {
      throw bad(
        `is a symbolic link leading outside the workspace (to ${source}): copy the file into the workspace`
      )
    }
  } else if (!inside(await realpath(match), root)) {
    throw bad(`is outside the workspace ${root}: copy the file into the workspace`)
  }
  const s = await stat(source)
  if (s.isDirectory()) {
    throw bad(
      `is a directory: the bundle is flat, list the files instead (e.g. ${path.join(path.relative(root, match) || '.', '*')})`
    )
  }
  if (!s.isFile()) throw bad('is not a regular file: give files only')
  // st_blocks counts 512-byte units on Linux whatever the file system's block size.
  if (s.size >= SPARSE_WARNING_BYTES && s.blocks * 512 < s.size / 2) {
    core.warning(
      `extra-files: ${match} is a sparse file of ${bytes(s.size)} (${bytes(s.blocks * 512)} on disk): it is pushed in full, and with format: image its layer tarball alone takes ${bytes(s.size)} of RUNNER_TEMP`
    )
  }
  return source
}

function inside(p: string, root: string): boolean {
  const rel = path.relative(root, p)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    size += (chunk as Buffer).length
    hash.update(chunk as Buffer)
  }
  return { size, sha256: hash.digest('hex') }
}
