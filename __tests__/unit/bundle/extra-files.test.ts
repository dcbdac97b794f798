import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, realpath, rm, symlink, truncate, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../../src/util/errors.js'
import { resolveExtraFiles } from '../../../src/bundle/extra-files.js'
import { parseExtraFilePatterns } from '../../../src/inputs/lists.js'
import { releaseFileNames } from '../../../src/release/variants.js'

// extra-files (issue 12), on a real workspace in a temp directory.

let root: string
let ws: string
const RESERVED = releaseFileNames(
  ['latest-lts-x86_64', 'latest-lts-aarch64'].map(id => ({
    id,
    asset: `hook_${id}.tar.gz`,
    sha512: 'x'
  }))
)
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hook-extra-')))
  ws = path.join(root, 'ws')
  await mkdir(path.join(ws, 'site', 'sub'), { recursive: true })
  await writeFile(path.join(ws, 'site', 'auto.ipxe'), '#!ipxe\n')
  await writeFile(path.join(ws, 'site', 'README.txt'), 'hello\n')
  await writeFile(path.join(ws, 'site', 'sub', 'auto.ipxe'), 'other\n')
  await writeFile(path.join(root, 'secret.txt'), 'outside\n')
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function refusal(patterns: string[]): Promise<string> {
  try {
    await resolveExtraFiles(patterns, ws, RESERVED)
  } catch (err) {
    expect(err).toBeInstanceOf(ActionError)
    expect((err as Error).message).not.toContain('\n')
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

describe('parseExtraFilePatterns', () => {
  it('one pattern per line; blank lines and # comments skipped', () => {
    expect(parseExtraFilePatterns('site/*.ipxe\n\n  # a comment\n !site/x \nREADME.md')).toEqual([
      'site/*.ipxe',
      '!site/x',
      'README.md'
    ])
  })
})

describe('resolveExtraFiles', () => {
  it('matches in the workspace, names by base name, hashes, sorts by name', async () => {
    expect(await resolveExtraFiles(['site/*.ipxe', 'site/README.txt'], ws, RESERVED)).toEqual([
      {
        name: 'README.txt',
        path: path.join(ws, 'site', 'README.txt'),
        size: 6,
        sha256: sha256('hello\n')
      },
      {
        name: 'auto.ipxe',
        path: path.join(ws, 'site', 'auto.ipxe'),
        size: 7,
        sha256: sha256('#!ipxe\n')
      }
    ])
  })

  it('applies ! exclusions to every pattern, and reads a link that stays in the workspace', async () => {
    await symlink(path.join(ws, 'site', 'README.txt'), path.join(ws, 'site', 'menu.txt'))
    const files = await resolveExtraFiles(['site/*.txt', '!site/README.txt'], ws, RESERVED)
    expect(files).toEqual([
      {
        name: 'menu.txt',
        path: path.join(ws, 'site', 'README.txt'),
        size: 6,
        sha256: sha256('hello\n')
      }
    ])
  })

  it('nothing to do without patterns', async () => {
    expect(await resolveExtraFiles([], '/nonexistent', RESERVED)).toEqual([])
  })

  it('refuses a pattern that matches nothing', async () => {
    expect(await refusal(['site/*.ipxe', 'nope/*.txt'])).toBe(
      `extra-files pattern "nope/*.txt" matches no file in the workspace ${ws}: fix the pattern or remove it`
    )
  })

  it('refuses a directory', async () => {
    expect(await refusal(['site/sub'])).toBe(
      `extra-files: ${path.join(ws, 'site', 'sub')} (pattern "site/sub") is a directory: the bundle is flat, list the files instead (e.g. site/sub/*)`
    )
    expect(await refusal(['site/*'])).toContain('is a directory')
  })

  it('refuses two matches with one base name', async () => {
    expect(await refusal(['site/auto.ipxe', 'site/sub/auto.ipxe'])).toBe(
      `extra-files: ${path.join(ws, 'site', 'sub', 'auto.ipxe')} (pattern "site/sub/auto.ipxe") and ${path.join(ws, 'site', 'auto.ipxe')} would both be auto.ipxe at the bundle root: the bundle is flat, rename one or narrow the patterns`
    )
  })

  it.each([
    'vmlinuz-x86_64',
    'initramfs-arm64',
    'vmlinuz-latest-lts-x86_64',
    'dtbs-latest-lts-aarch64.tar.gz',
    'hook_latest-lts-x86_64.tar.gz',
    'hook-latest-lts-x86_64-efi-initrd.iso',
    'checksum.txt'
  ])('refuses %s, a name the release’s files use', async name => {
    await writeFile(path.join(ws, name), 'x')
    expect(await refusal([name])).toBe(
      `extra-files: ${path.join(ws, name)} (pattern "${name}") would be ${name} at the bundle root, a name the release's files already use: rename the file`
    )
  })

  it('refuses a symbolic link leading outside the workspace', async () => {
    await symlink(path.join(root, 'secret.txt'), path.join(ws, 'site', 'leak.txt'))
    expect(await refusal(['site/leak.txt'])).toBe(
      `extra-files: ${path.join(ws, 'site', 'leak.txt')} (pattern "site/leak.txt") is a symbolic link leading outside the workspace (to ${path.join(root, 'secret.txt')}): copy the file into the workspace`
    )
  })

  it('refuses a link through a linked directory that leads outside', async () => {
    await symlink(root, path.join(ws, 'up'))
    expect(await refusal(['up'])).toContain('is a symbolic link leading outside the workspace')
  })

  it('refuses a file outside the workspace, by absolute path or ..', async () => {
    expect(await refusal([path.join(root, 'secret.txt')])).toBe(
      `extra-files: ${path.join(root, 'secret.txt')} (pattern "${path.join(root, 'secret.txt')}") is outside the workspace ${ws}: copy the file into the workspace`
    )
    expect(await refusal(['../secret.txt'])).toContain('is outside the workspace')
  })

  it('refuses a broken link and a name oras or a layer could misread', async () => {
    await symlink(path.join(ws, 'gone'), path.join(ws, 'broken.txt'))
    expect(await refusal(['broken.txt'])).toContain('is a broken symbolic link')
    await writeFile(path.join(ws, '-rf'), 'x')
    expect(await refusal(['-rf'])).toContain(
      'has the name "-rf": bundle names may only use A-Z a-z 0-9 . _ - and not start with . or -'
    )
    await writeFile(path.join(ws, 'a b.txt'), 'x')
    expect(await refusal(['a b.txt'])).toContain('has the name "a b.txt"')
  })

  // Issue 17 item 8: format: image writes <name>.tar; a file name has at most 255 bytes.
  it('allows a 251-byte name to format: image, refuses 252; the artifact format takes 255', async () => {
    const at = (n: number): string => `${'n'.repeat(n - 4)}.txt`
    for (const n of [251, 252, 255]) await writeFile(path.join(ws, at(n)), 'x')
    const image = { imageLayers: true }
    expect(await resolveExtraFiles([at(251)], ws, RESERVED, image)).toHaveLength(1)
    expect(await resolveExtraFiles([at(255)], ws, RESERVED)).toHaveLength(1)
    await expect(resolveExtraFiles([at(252)], ws, RESERVED, image)).rejects.toThrow(
      new ActionError(
        `extra-files: ${path.join(ws, at(252))} (pattern "${at(252)}") has a name of 252 bytes, more than the 251 that format: image allows (it writes each bundle file as <name>.tar, and a file name has at most 255 bytes): rename the file`
      )
    )
  })

  // Issue 17 decision (b): no size limit, but a large sparse file is named with its real cost.
  it('warns of a large sparse file, and accepts it', async () => {
    const file = path.join(ws, 'disk.img')
    await writeFile(file, '')
    await truncate(file, 128 << 20)
    const printed: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    try {
      expect(await resolveExtraFiles(['disk.img'], ws, RESERVED)).toHaveLength(1)
    } finally {
      process.stdout.write = write
    }
    expect(printed.join('')).toContain(
      `::warning::extra-files: ${file} is a sparse file of 128.0 MiB (0 B on disk): it is pushed in full, and with format: image its layer tarball alone takes 128.0 MiB of RUNNER_TEMP`
    )
  })
})
