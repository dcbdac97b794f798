import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ArchiveContent } from '../../../src/archives/content.js'
import {
  buildBundle,
  checkBundleDir,
  validateBundle,
  type Bundle
} from '../../../src/bundle/bundle.js'
import { ActionError } from '../../../src/util/errors.js'
import type { ExtraFile } from '../../../src/bundle/extra-files.js'
import { catalog } from '../../../src/release/catalog.js'
import { planBundle, resolveVariant } from '../../../src/release/variants.js'

// The bundle layout and the pre-push validation, on real files in a temp directory.

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hook-bundle-unit-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function content(id: string, files: Record<string, string>): Promise<ArchiveContent> {
  const where = path.join(dir, 'staging', id)
  await mkdir(where, { recursive: true })
  const list = []
  for (const [name, text] of Object.entries(files)) {
    await writeFile(path.join(where, name), text)
    await chmod(path.join(where, name), 0o444)
    list.push({ name, size: text.length, sha256: createHash('sha256').update(text).digest('hex') })
  }
  return {
    archive: { id, asset: `hook_${id}.tar.gz`, sha512: 'x' },
    dir: where,
    files: list,
    newestMtime: id.length * 1000,
    cached: false
  }
}

async function lts(): Promise<Bundle> {
  const ids = ['latest-lts-x86_64', 'latest-lts-aarch64']
  const plan = planBundle(
    resolveVariant('lts', catalog(ids)),
    ids.map(id => ({ id, asset: `hook_${id}.tar.gz`, sha512: 'x' }))
  )
  const contents = [
    await content('latest-lts-aarch64', {
      'vmlinuz-latest-lts-aarch64': 'ka',
      'initramfs-latest-lts-aarch64': 'ia'
    }),
    await content('latest-lts-x86_64', {
      'vmlinuz-latest-lts-x86_64': 'kx',
      'initramfs-latest-lts-x86_64': 'ix'
    })
  ]
  return buildBundle(plan, contents, path.join(dir, 'bundle'))
}

describe('buildBundle', () => {
  it('links the archives’ files in and makes relative standard-name links', async () => {
    const bundle = await lts()
    expect(bundle.dir).toBe(path.join(dir, 'bundle'))
    expect(bundle.newestMtime).toBe('latest-lts-aarch64'.length * 1000)
    expect(bundle.entries.map(e => `${e.name}${e.target ? ` -> ${e.target}` : ''}`)).toEqual([
      'initramfs-aarch64 -> initramfs-latest-lts-aarch64',
      'initramfs-arm64 -> initramfs-latest-lts-aarch64',
      'initramfs-latest-lts-aarch64',
      'initramfs-latest-lts-x86_64',
      'initramfs-x86_64 -> initramfs-latest-lts-x86_64',
      'vmlinuz-aarch64 -> vmlinuz-latest-lts-aarch64',
      'vmlinuz-arm64 -> vmlinuz-latest-lts-aarch64',
      'vmlinuz-latest-lts-aarch64',
      'vmlinuz-latest-lts-x86_64',
      'vmlinuz-x86_64 -> vmlinuz-latest-lts-x86_64'
    ])
    await expect(validateBundle(bundle)).resolves.toBeUndefined()
    expect((await readdir(dir)).sort()).toEqual(['bundle', 'staging'])
  })

  it('refuses two archives that give one name different bytes, leaving nothing', async () => {
    const plan = { variant: 'x', archives: [], isos: [], links: [] }
    const a = await content('a', { README: 'one' })
    const b = await content('b', { README: 'two' })
    await expect(buildBundle(plan, [a, b], path.join(dir, 'bundle'))).rejects.toThrow(
      'hook_a.tar.gz and hook_b.tar.gz both contain README with different bytes; refusing to pick one'
    )
    expect((await readdir(dir)).sort()).toEqual(['staging'])
  })

  it('accepts the same bytes under one name twice', async () => {
    const plan = { variant: 'x', archives: [], isos: [], links: [] }
    const bundle = await buildBundle(
      plan,
      [await content('a', { README: 'same' }), await content('b', { README: 'same' })],
      path.join(dir, 'bundle')
    )
    expect(bundle.entries.map(e => e.name)).toEqual(['README'])
  })
})

describe('buildBundle with extra files', () => {
  const ids = ['latest-lts-x86_64', 'latest-lts-aarch64']
  const plan = () =>
    planBundle(
      resolveVariant('lts', catalog(ids)),
      ids.map(id => ({ id, asset: `hook_${id}.tar.gz`, sha512: 'x' }))
    )
  const contents = async (extraName = 'x') => [
    await content('latest-lts-aarch64', {
      'vmlinuz-latest-lts-aarch64': 'ka',
      'initramfs-latest-lts-aarch64': 'ia',
      [extraName]: 'from the archive'
    }),
    await content('latest-lts-x86_64', {
      'vmlinuz-latest-lts-x86_64': 'kx',
      'initramfs-latest-lts-x86_64': 'ix'
    })
  ]
  async function extra(name: string, text: string): Promise<ExtraFile> {
    const file = path.join(dir, `ws-${name}`)
    await writeFile(file, text)
    return {
      name,
      path: file,
      size: text.length,
      sha256: createHash('sha256').update(text).digest('hex')
    }
  }

  it('copies them to the bundle root as plain entries, validated like the rest', async () => {
    const ipxe = await extra('auto.ipxe', '#!ipxe\n')
    const bundle = await buildBundle(plan(), await contents(), path.join(dir, 'bundle'), [ipxe])
    expect(bundle.entries.find(e => e.name === 'auto.ipxe')).toEqual({
      name: 'auto.ipxe',
      size: ipxe.size,
      sha256: ipxe.sha256
    })
    expect(bundle.extraFiles).toEqual([ipxe])
    await expect(validateBundle(bundle)).resolves.toBeUndefined()
    // A copy: changing the workspace file later does not change the bundle.
    await writeFile(ipxe.path, 'changed')
    await expect(validateBundle(bundle)).resolves.toBeUndefined()
  })

  it('refuses a file changed between hashing and building, leaving nothing', async () => {
    const ipxe = await extra('auto.ipxe', '#!ipxe\n')
    await writeFile(ipxe.path, '#!ipxe changed\n')
    await expect(
      buildBundle(plan(), await contents(), path.join(dir, 'bundle'), [ipxe])
    ).rejects.toThrow(
      `extra-files: ${ipxe.path} changed after it was hashed (before the downloads), so the bundle would not hold what was checked; nothing was pushed, run the step again without changing it`
    )
    expect((await readdir(dir)).sort()).toEqual(['staging', 'ws-auto.ipxe'])
  })

  it('refuses a name an archive brought unannounced', async () => {
    const notes = await extra('notes.txt', 'mine')
    await expect(
      buildBundle(plan(), await contents('notes.txt'), path.join(dir, 'bundle'), [notes])
    ).rejects.toThrow(
      `extra-files: ${notes.path} would be notes.txt at the bundle root, which hook_latest-lts-aarch64.tar.gz also contains: rename the file`
    )
  })
})

// Issue 10 item 7: the bundle is built beside bundle-dir and renamed onto it, which a symbolic
// link or a mount point cannot take; both used to fail as "cannot be created (ENOTDIR/EBUSY)".
describe('bundle-dir that cannot be replaced', () => {
  it('refuses a symbolic link, naming its target', async () => {
    const real = path.join(dir, 'real')
    await mkdir(real)
    const link = path.join(dir, 'bundle')
    await symlink(real, link)
    const expected = `bundle-dir ${link} is a symbolic link (to ${real}): the bundle is built beside it and renamed into place, which would replace the link; give the real directory (${real}) or a new path`
    await expect(checkBundleDir(link)).rejects.toThrow(new ActionError(expected))
    await expect(lts()).rejects.toThrow(new ActionError(expected))
    expect(await readdir(real)).toEqual([])
    expect((await readdir(dir)).sort()).toEqual(['bundle', 'real', 'staging'])
  })

  // Mounting needs root (CI and the dev machines run as root).
  const asRoot = process.getuid?.() === 0 ? it : it.skip
  asRoot('refuses a mount point, saying to give a directory inside it', async () => {
    const mount = path.join(dir, 'bundle')
    await mkdir(mount)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount])
    try {
      const expected = `bundle-dir ${mount} is a mount point: the bundle is built beside it and renamed into place, which a mount point cannot take; give a new directory inside it (e.g. ${path.join(mount, 'hook')}) or leave bundle-dir empty`
      await expect(checkBundleDir(mount)).rejects.toThrow(new ActionError(expected))
      await expect(lts()).rejects.toThrow(new ActionError(expected))
      expect(await readdir(mount)).toEqual([])
    } finally {
      execFileSync('umount', [mount])
    }
  })

  asRoot('refuses a bind mount of a directory of the same file system', async () => {
    const source = path.join(dir, 'source')
    const mount = path.join(dir, 'bundle')
    await mkdir(source)
    await mkdir(mount)
    execFileSync('mount', ['--bind', source, mount])
    try {
      await expect(checkBundleDir(mount)).rejects.toThrow(/is a mount point/)
    } finally {
      execFileSync('umount', [mount])
    }
  })

  it('accepts a new path below a symbolic link, and a new or empty directory', async () => {
    const real = path.join(dir, 'real')
    await mkdir(real)
    await symlink(real, path.join(dir, 'via'))
    await expect(checkBundleDir(path.join(dir, 'via', 'bundle'))).resolves.toBeUndefined()
    await expect(checkBundleDir(real)).resolves.toBeUndefined()
  })
})

describe('validateBundle: the bundle is what was verified, right before a push', () => {
  it.each<[string, (b: Bundle) => Promise<void>, string]>([
    [
      'a file resized',
      b => rewrite(b, 'vmlinuz-latest-lts-x86_64', 'longer'),
      'vmlinuz-latest-lts-x86_64 is not the recorded 2-byte file'
    ],
    [
      'a file removed',
      b => unlink(path.join(b.dir, 'initramfs-latest-lts-x86_64')),
      'initramfs-latest-lts-x86_64 is missing'
    ],
    ['an extra file', b => writeFile(path.join(b.dir, 'extra'), 'x'), 'unexpected entry extra'],
    [
      'a link pointing elsewhere',
      async b => {
        await unlink(path.join(b.dir, 'vmlinuz-x86_64'))
        await symlink('/etc/passwd', path.join(b.dir, 'vmlinuz-x86_64'))
      },
      'vmlinuz-x86_64 no longer links to vmlinuz-latest-lts-x86_64'
    ],
    [
      'a link replaced by a file',
      async b => {
        await unlink(path.join(b.dir, 'vmlinuz-arm64'))
        await writeFile(path.join(b.dir, 'vmlinuz-arm64'), 'ka')
      },
      'vmlinuz-arm64 no longer links to vmlinuz-latest-lts-aarch64'
    ]
  ])('refuses %s', async (_what, change, message) => {
    const bundle = await lts()
    await change(bundle)
    const err = await validateBundle(bundle).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ActionError)
    expect((err as Error).message).toContain(
      `bundle ${bundle.dir} changed since it was built: ${message}`
    )
    expect((err as Error).message).toMatch(/; nothing was pushed, run the step again$/)
  })
})

describe('validateBundle leaves the bytes to the push', () => {
  it('passes a file rewritten at its recorded size: the push compares what it reads', async () => {
    // Caught by the push instead, before any tag moves: tests "rewritten as the first blob
    // upload begins" (artifact, faults-push) and "rewritten as the layers are written" (image).
    const bundle = await lts()
    await rewrite(bundle, 'vmlinuz-latest-lts-x86_64', 'KX')
    await expect(validateBundle(bundle)).resolves.toBeUndefined()
  })
})

async function rewrite(b: Bundle, name: string, text: string): Promise<void> {
  const where = path.join(b.dir, name)
  // The file is a read-only hard link of the verified copy: replace it, as a careless step would.
  await unlink(where)
  await writeFile(where, text)
}
