import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { ok, runAction, type ActionRun } from '../support/action.js'
import { startContainerd, type Containerd } from '../support/containerd.js'
import { readTar } from '../support/hook-release.js'
import { startWorld, type World } from '../support/world.js'

// Issue 12, extra-files through dist/index.js: the operator's files are matched in the
// workspace, placed at the bundle root, listed in `files` and pushed in both formats (read back
// through the registry's HTTP API, and for the image format pulled and unpacked by Debian's
// containerd on both platforms); every refusal comes before any archive is downloaded.

let world: World
let containerd: Containerd
let namespaces = 0
let ws: string
const IPXE = '#!ipxe\nchain http://boot.example/auto.ipxe\n'
const README = 'Site boot files\n'
const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex')

beforeAll(async () => {
  world = await startWorld()
  containerd = await startContainerd()
  ws = await mkdtemp(path.join(world.dir, 'workspace-'))
  await mkdir(path.join(ws, 'boot', 'sub'), { recursive: true })
  await writeFile(path.join(ws, 'boot', 'auto.ipxe'), IPXE)
  await writeFile(path.join(ws, 'boot', 'sub', 'auto.ipxe'), 'another\n')
  await writeFile(path.join(ws, 'SITE-README.txt'), README)
  await writeFile(path.join(world.dir, 'outside.txt'), 'not yours\n')
  await writeFile(path.join(ws, 'vmlinuz-x86_64'), 'a kernel of my own\n')
})

afterAll(async () => {
  await containerd?.stop()
  await world?.stop()
})

const EXTRA = 'boot/*.ipxe\nSITE-README.txt'

function expectExtraFiles(run: ActionRun): void {
  const files = JSON.parse(run.outputs['files']!) as Array<{
    name: string
    size: number
    sha256: string
    target?: string
  }>
  expect(files.filter(f => f.name === 'auto.ipxe' || f.name === 'SITE-README.txt')).toEqual([
    { name: 'SITE-README.txt', size: README.length, sha256: sha256(README) },
    { name: 'auto.ipxe', size: IPXE.length, sha256: sha256(IPXE) }
  ])
  expect(files).toHaveLength(10 + 2)
}

describe('extra-files are served from the same bundle', () => {
  it('artifact: one layer each, at the bundle root, listed in files', async () => {
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { 'extra-files': EXTRA }, 'hook/extra-artifact'),
        env: { GITHUB_WORKSPACE: ws }
      })
    )
    expectExtraFiles(run)
    expect(await readFile(path.join(run.outputs['bundle-dir']!, 'auto.ipxe'), 'utf8')).toBe(IPXE)
    const manifest = await world.registry.getManifest('hook/extra-artifact', 'v0.11.1-lts')
    const layers = manifest.body.layers as Array<{
      digest: string
      annotations: Record<string, string>
    }>
    const layer = layers.find(l => l.annotations['org.opencontainers.image.title'] === 'auto.ipxe')!
    expect(layer.digest).toBe(`sha256:${sha256(IPXE)}`)
    expect(
      (await world.registry.getBlob('hook/extra-artifact', layer.digest)).toString('utf8')
    ).toBe(IPXE)
    expect(layers).toHaveLength(12)
  })

  it('image: one tar layer each in every platform manifest, unpacked by containerd at the root', async () => {
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { 'extra-files': EXTRA, format: 'image' }, 'hook/extra-image'),
        env: { GITHUB_WORKSPACE: ws }
      })
    )
    expectExtraFiles(run)
    const platforms = JSON.parse(run.outputs['platforms']!) as Record<string, string>
    expect(Object.keys(platforms).sort()).toEqual(['linux/amd64', 'linux/arm64'])
    for (const [platform, digest] of Object.entries(platforms)) {
      const manifest = await world.registry.getManifest('hook/extra-image', digest)
      const layers = manifest.body.layers as Array<{ digest: string }>
      expect(layers).toHaveLength(12)
      const found: Record<string, string> = {}
      for (const l of layers) {
        for (const entry of await readTar(
          await world.registry.getBlob('hook/extra-image', l.digest)
        ))
          if (entry.name === 'auto.ipxe' || entry.name === 'SITE-README.txt')
            found[entry.name] = entry.data.toString('utf8')
      }
      expect(found).toEqual({ 'auto.ipxe': IPXE, 'SITE-README.txt': README })

      // A real consumer: containerd pulls the platform and unpacks them at the image root.
      const ns = `extra${++namespaces}`
      const pulled = await containerd.pull(
        ns,
        `${world.registry.host}/hook/extra-image:v0.11.1-lts`,
        platform
      )
      // ctr may report retries on stderr under load; the exit code is what counts.
      if (pulled.code !== 0) throw new Error(`ctr pull failed: ${pulled.stderr}${pulled.stdout}`)
      const config = JSON.parse(
        (await world.registry.getBlob('hook/extra-image', manifest.body.config.digest)).toString()
      ) as { rootfs: { diff_ids: string[] } }
      const root = await containerd.unpacked(ns, config.rootfs.diff_ids)
      expect(await readFile(path.join(root, 'auto.ipxe'), 'utf8')).toBe(IPXE)
      expect(await readFile(path.join(root, 'SITE-README.txt'), 'utf8')).toBe(README)
      expect((await readdir(root)).sort()).toEqual(
        (JSON.parse(run.outputs['files']!) as Array<{ name: string }>).map(f => f.name).sort()
      )
    }
  })

  it('a link that stays inside the workspace serves its target’s bytes', async () => {
    await symlink(path.join(ws, 'SITE-README.txt'), path.join(ws, 'README-link.txt'))
    const run = ok(
      await runAction({
        inputs: world.inputs('lts', { 'extra-files': 'README-link.txt', push: 'false' }),
        env: { GITHUB_WORKSPACE: ws }
      })
    )
    const files = JSON.parse(run.outputs['files']!) as Array<{ name: string; sha256: string }>
    expect(files.find(f => f.name === 'README-link.txt')).toMatchObject({ sha256: sha256(README) })
  })
})

describe('refused with one line before any archive is downloaded, nothing pushed', () => {
  async function refused(extra: string, more: Record<string, string> = {}): Promise<string> {
    world.server.resetRequests()
    const run = await runAction({
      inputs: world.inputs('lts', { 'extra-files': extra, ...more }, 'hook/extra-refused'),
      env: { GITHUB_WORKSPACE: ws }
    })
    expect({ exitCode: run.exitCode, errors: run.errors.length, stderr: run.stderr }).toEqual({
      exitCode: 1,
      errors: 1,
      stderr: ''
    })
    // checksum.txt tells which names the bundle will hold; no archive is fetched.
    expect(world.server.requests().map(r => r.path)).toEqual(['/releases/v0.11.1/checksum.txt'])
    expect(await world.registry.listTags('hook/extra-refused').catch(() => [])).toEqual([])
    expect(run.outputs['bundle-dir']).toBeUndefined()
    return run.errors[0]!
  }

  it('a name the bundle already has (a standard name)', async () => {
    expect(await refused('vmlinuz-x86_64')).toBe(
      `extra-files: ${path.join(ws, 'vmlinuz-x86_64')} (pattern "vmlinuz-x86_64") would be vmlinuz-x86_64 at the bundle root, a name the release's files already use: rename the file`
    )
  })

  it('two matches with one name', async () => {
    expect(await refused('boot/**/*.ipxe')).toMatch(
      /^extra-files: .*\/boot\/sub\/auto\.ipxe \(pattern "boot\/\*\*\/\*\.ipxe"\) and .*\/boot\/auto\.ipxe would both be auto\.ipxe at the bundle root/
    )
  })

  it('a directory', async () => {
    expect(await refused('boot')).toMatch(
      /^extra-files: .*\/boot \(pattern "boot"\) is a directory/
    )
  })

  it('a link leading outside the workspace', async () => {
    await symlink(path.join(world.dir, 'outside.txt'), path.join(ws, 'leak.txt'))
    expect(await refused('leak.txt')).toMatch(
      /^extra-files: .*\/leak\.txt \(pattern "leak\.txt"\) is a symbolic link leading outside the workspace/
    )
  })

  // Issue 17 item 8: the image format writes every bundle file as <name>.tar, which the file
  // system refuses past 255 bytes; it used to fail after the downloads with ENAMETOOLONG.
  it('a name too long for the image format (252 bytes: <name>.tar would be 256)', async () => {
    const name = `${'n'.repeat(248)}.txt`
    await writeFile(path.join(ws, name), 'long\n')
    expect(await refused(name, { format: 'image' })).toBe(
      `extra-files: ${path.join(ws, name)} (pattern "${name}") has a name of 252 bytes, more than the 251 that format: image allows (it writes each bundle file as <name>.tar, and a file name has at most 255 bytes): rename the file`
    )
  })

  it('a pattern that matches nothing', async () => {
    expect(await refused('SITE-README.txt\nmissing/*.ipxe')).toBe(
      `extra-files pattern "missing/*.ipxe" matches no file in the workspace ${ws}: fix the pattern or remove it`
    )
  })
})
