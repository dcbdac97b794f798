import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { lstat, mkdir, mkdtemp, stat, symlink, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { runAction, type ActionRun } from '../support/action.js'
import { makeTarGz, sha512Hex, writeChecksumTxt } from '../support/hook-release.js'
import { startWorld, type World } from '../support/world.js'

// Issue 10 item 4: inputs that used to pass the up-front checks and then failed after every
// archive was downloaded, or were silently misread. Each is refused by dist/index.js with one
// line before any request reaches the release server, and nothing reaches the registry.

let world: World

beforeAll(async () => {
  world = await startWorld()
})

afterAll(async () => {
  await world?.stop()
})

async function refused(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  cwd?: string
): Promise<{ error: string; run: ActionRun }> {
  world.server.resetRequests()
  const run = await runAction({
    inputs: world.inputs('lts', inputs),
    env,
    ...(cwd === undefined ? {} : { cwd })
  })
  expect({ exitCode: run.exitCode, errors: run.errors.length, stderr: run.stderr }).toEqual({
    exitCode: 1,
    errors: 1,
    stderr: ''
  })
  expect(world.server.requests()).toEqual([])
  expect(run.outputs['pushed']).toBeUndefined()
  expect(await world.registry.catalog()).toEqual([])
  return { error: run.errors[0]!, run }
}

describe('refused before any download, nothing pushed', () => {
  it('a download-timeout longer than a Node timer can wait', async () => {
    const { error } = await refused({ 'download-timeout': '2147484' })
    expect(error).toBe(
      'download-timeout 2147484 is more than 2147483 seconds (about 24 days), the longest a timer can wait: give fewer seconds, or 0 for no limit'
    )
  })

  it('a created time oras would refuse (February 30th)', async () => {
    const { error } = await refused({ created: '2024-02-30T00:00:00Z' })
    expect(error).toMatch(
      /^created "2024-02-30T00:00:00Z" is not an RFC 3339 time as oras reads it: /
    )
  })

  it('a created time in lower case, which oras refuses', async () => {
    const { error } = await refused({ created: '2024-05-01t12:00:00z' })
    expect(error).toMatch(
      /^created "2024-05-01t12:00:00z" is not an RFC 3339 time as oras reads it/
    )
  })

  it('an org.opencontainers.image.created annotation oras would refuse', async () => {
    const { error } = await refused({
      annotations: 'org.opencontainers.image.created=2024-05-01T24:00:00Z'
    })
    expect(error).toMatch(
      /^annotations: org\.opencontainers\.image\.created "2024-05-01T24:00:00Z" is not an RFC 3339 time as oras reads it/
    )
  })

  it('a SOURCE_DATE_EPOCH past the year 9999', async () => {
    const { error } = await refused({}, { SOURCE_DATE_EPOCH: '253402300800' })
    expect(error).toMatch(/^SOURCE_DATE_EPOCH 253402300800 is after 9999-12-31T23:59:59Z/)
  })

  it('an oci-layout directory holding "@", which oras would write elsewhere', async () => {
    const cwd = await mkdtemp(path.join(world.dir, 'layout-'))
    const { error } = await refused({ image: 'oci-layout:./out@v2', push: 'true' }, {}, cwd)
    expect(error).toBe(
      `image "oci-layout:./out@v2" names a directory (absolute path ${JSON.stringify(path.join(cwd, 'out@v2'))}) with "@", which oras reads as a tag list, tag or digest separator: choose a directory whose absolute path has no ",", ":" or "@"`
    )
    for (const where of ['out@v2', 'out'])
      await expect(stat(path.join(cwd, where))).rejects.toThrow(/ENOENT/)
  })

  it('a download-url with a query string', async () => {
    const { error } = await refused({ 'download-url': `${world.server.url}/releases?x=1` })
    expect(error).toBe(
      `download-url "${world.server.url}/releases" has a query string (not shown): assets are fetched from <download-url>/<tag>/<asset>, so give a base URL without "?" or "#"`
    )
  })

  it('a download-url with a fragment', async () => {
    const { error } = await refused({ 'download-url': `${world.server.url}/releases#x` })
    expect(error).toMatch(
      new RegExp(`^download-url "${world.server.url}/releases" has a fragment \\(not shown\\)`)
    )
  })
})

describe('bundle-dir the bundle cannot be renamed onto (issue 10 item 7)', () => {
  it('a symbolic link: one line naming its target, before any download', async () => {
    const real = await mkdtemp(path.join(world.dir, 'real-'))
    const link = path.join(world.dir, `link-${path.basename(real)}`)
    await symlink(real, link)
    const { error } = await refused({ 'bundle-dir': link })
    expect(error).toBe(
      `bundle-dir ${link} is a symbolic link (to ${real}): the bundle is built beside it and renamed into place, which would replace the link; give the real directory (${real}) or a new path`
    )
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
  })
})

/** A big-endian base-256 tar number (the GNU extension for values octal cannot hold). */
function setMtime(header: Buffer, seconds: bigint): void {
  const field = header.subarray(136, 148)
  field.fill(0)
  field[0] = 0x80
  for (let i = 11, v = seconds; i > 0 && v > 0n; i--, v >>= 8n) field[i] = Number(v & 0xffn)
  header.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of header.subarray(0, 512)) sum += byte
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
}

describe('created derived from archive times that RFC 3339 cannot write', () => {
  it('fails with one line naming the cause and the way out, nothing pushed', async () => {
    const tag = 'v9.9.9'
    const where = path.join(world.dir, 'releases', tag)
    await mkdir(where, { recursive: true })
    const assets: Array<[string, string]> = []
    for (const id of ['latest-lts-x86_64', 'latest-lts-aarch64']) {
      const tar = await makeTarGz(
        [
          { name: `vmlinuz-${id}`, content: `kernel ${id}` },
          { name: `initramfs-${id}`, content: `initramfs ${id}` }
        ],
        { gzip: false }
      )
      // The kernel entry dated in the year 11476.
      setMtime(tar, 300_000_000_000n)
      const tgz = gzipSync(tar)
      await writeFile(path.join(where, `hook_${id}.tar.gz`), tgz)
      assets.push([sha512Hex(tgz), `hook_${id}.tar.gz`])
    }
    await writeChecksumTxt(where, assets)
    const run = await runAction({ inputs: world.inputs('lts', { 'hook-version': tag }) })
    expect({ exitCode: run.exitCode, errors: run.errors, stderr: run.stderr }).toEqual({
      exitCode: 1,
      errors: [
        'the newest file time inside the archives (300000000000 s since 1970) is outside the years 0000 to 9999 that RFC 3339 can write, so created cannot be derived from it: set created (e.g. 2024-05-01T12:00:00Z) or SOURCE_DATE_EPOCH'
      ],
      stderr: ''
    })
    expect(await world.registry.catalog()).toEqual([])
  })
})

describe('download-url with user:password@', () => {
  it('sends them as Authorization: Basic to the release server only, and never prints them', async () => {
    world.server.resetRequests()
    const user = 'mirror-user'
    const password = 'Pa55:w0rd/x'
    const base = world.server.url.replace(
      'http://',
      `http://${user}:${encodeURIComponent(password)}@`
    )
    const run = await runAction({
      inputs: world.inputs('lts', { 'download-url': `${base}/releases` }, 'hook/with-auth')
    })
    expect({ exitCode: run.exitCode, errors: run.errors, stderr: run.stderr }).toEqual({
      exitCode: 0,
      errors: [],
      stderr: ''
    })
    const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
    const requests = world.server.requests()
    const releaseRequests = requests.filter(r => r.path.startsWith('/releases/'))
    expect(releaseRequests.map(r => r.path).sort()).toEqual([
      '/releases/v0.11.1/checksum.txt',
      '/releases/v0.11.1/hook_latest-lts-aarch64.tar.gz',
      '/releases/v0.11.1/hook_latest-lts-x86_64.tar.gz'
    ])
    for (const r of releaseRequests) expect(r.authorization).toBe(basic)
    // oras comes from oras-url, another place: the mirror's credentials are not sent there.
    for (const r of requests.filter(r => r.path.startsWith('/oras/')))
      expect(r.authorization).toBeUndefined()
    // Masked before anything printed: the runner shows *** wherever a masked value appears;
    // the values themselves appear only in the ::add-mask:: commands.
    const secrets = [user, password, encodeURIComponent(password), basic.slice('Basic '.length)]
    const masked = run.stdout
      .split('\n')
      .filter(l => l.startsWith('::add-mask::'))
      .map(l =>
        // The runner unescapes command data (%25, %0D, %0A) before masking.
        l
          .slice('::add-mask::'.length)
          .replace(/%0D/g, '\r')
          .replace(/%0A/g, '\n')
          .replace(/%25/g, '%')
      )
    expect(masked).toEqual(expect.arrayContaining(secrets))
    const firstMask = run.stdout.indexOf('::add-mask::')
    expect(run.stdout.slice(0, firstMask)).toBe('')
    const printed = [
      run.stdout
        .split('\n')
        .filter(l => !l.startsWith('::add-mask::'))
        .join('\n'),
      run.stderr,
      JSON.stringify(run.outputs),
      run.summary
    ].join('\n')
    for (const secret of secrets) expect(printed).not.toContain(secret)
    expect(printed).toContain(`${world.server.url}/releases/v0.11.1/checksum.txt`)
  })
})
