import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, realpath, stat } from 'node:fs/promises'
import * as path from 'node:path'
import * as glob from '@actions/glob'
import { SAFE_NAME } from './checksums.js'
import { ActionError, describeError } from './errors.js'
import { compare } from './variants.js'

/** One of the operator's own files, placed at the bundle root under `name`. */
export interface ExtraFile {
  /** Base name in the bundle. */
  name: string
  /** Absolute path of the bytes in the workspace (a link's target, when the match is a link). */
  path: string
  size: number
  sha256: string
}

/** The `extra-files` input: one glob pattern per line; blank lines and `#` comments skipped. */
export function parseExtraFilePatterns(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
}

/**
 * Matches the patterns in the workspace and hashes every file, before anything is downloaded,
 * so that a typo, a collision or a file that cannot be served fails in seconds. Each include
 * pattern must match something; `!` patterns exclude from every include. A match must be a
 * regular file, or a link to one, inside the workspace; its base name must be new to the
 * bundle (`reserved`: every name the release's files, links and assets can have) and to the
 * other matches.
 */
export async function resolveExtraFiles(
  patterns: string[],
  workspace: string,
  reserved: ReadonlySet<string>
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
