import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { runAction, type ActionRun } from '../support/action.js'
import {
  fileBytes,
  makeTarGz,
  sha512Hex,
  writeChecksumTxt,
  type TarEntry
} from '../support/hook-release.js'
import type { TestServer } from '../support/server.js'
import { useReleaseGround } from '../support/ground.js'
import { gzipSync } from 'node:zlib'

// Issue 5, the release side: every fault of the release server or of the release's content
// gives exit code 1, exactly one one-line error annotation naming what failed and what to do,
// no stack trace, no bundle, and no tool cache entry; a passing fault is retried and succeeds.

const g = useReleaseGround('hook-faults-')
let removeFault: (() => void) | undefined
const inputs = (extra: Record<string, string> = {}): Record<string, string> =>
  g.inputs('lts', extra)

/** The failure contract every fault must meet; returns the one error line. */
async function expectFailure(run: ActionRun): Promise<string> {
  expect({ exitCode: run.exitCode, errors: run.errors.length }).toEqual({ exitCode: 1, errors: 1 })
  const error = run.errors[0]!
  expect(error).not.toMatch(/\n|%0A/)
  expect(run.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/)
  expect(run.stderr).toBe('')
  expect(run.outputs['bundle-dir']).toBeUndefined()
  // No bundle, no staging, no downloaded tarball left behind.
  expect(await readdir(run.env['RUNNER_TEMP']!)).toEqual([])
  return error
}

/** Names of the complete tool cache entries. */
async function cached(toolCache: string): Promise<string[]> {
  const out: string[] = []
  for (const tool of await readdir(toolCache).catch(() => [] as string[])) {
    for (const version of await readdir(path.join(toolCache, tool))) {
      const entries = await readdir(path.join(toolCache, tool, version))
      if (entries.includes('any.complete')) out.push(`${tool}/${version}`)
      else if (entries.length > 0) out.push(`${tool}/${version} (incomplete)`)
    }
  }
  return out.sort()
}

function fault(rule: Parameters<TestServer['fault']>[0]): void {
  removeFault = g.fault(rule)
}

const LTS_X86 = /hook_latest-lts-x86_64\.tar\.gz$/

describe('release server faults', () => {
  it.each([500, 502, 503])(
    'HTTP %i twice, then success: retried with bounded backoff',
    async status => {
      fault({ path: LTS_X86, kind: 'status', status, times: 2 })
      g.server.resetRequests()
      const run = await runAction({ inputs: inputs() })
      expect(run.exitCode).toBe(0)
      expect(g.server.requests(LTS_X86).map(r => r.status)).toEqual([status, status, 200])
    }
  )

  it('HTTP 503 on every attempt: fails after 3, naming the URL', async () => {
    fault({ path: LTS_X86, kind: 'status', status: 503 })
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const error = await expectFailure(await runAction({ inputs: inputs(), toolCache }))
    expect(error).toBe(
      `hook_latest-lts-x86_64.tar.gz: ${g.server.url}/releases/v0.11.1/hook_latest-lts-x86_64.tar.gz answered HTTP 503 after 3 attempts; the server is failing, retry later`
    )
    expect(await cached(toolCache)).not.toContain(expect.stringContaining('latest-lts-x86_64'))
  })

  it('404 for an asset: not retried, names the URL', async () => {
    fault({ path: LTS_X86, kind: 'status', status: 404 })
    g.server.resetRequests()
    const error = await expectFailure(await runAction({ inputs: inputs() }))
    expect(error).toBe(
      `hook_latest-lts-x86_64.tar.gz not found: ${g.server.url}/releases/v0.11.1/hook_latest-lts-x86_64.tar.gz answered HTTP 404; check the version, the repository and download-url`
    )
    expect(g.server.requests(LTS_X86)).toHaveLength(1)
  })

  it('403 (rate limit or denied): a clear message, not retried', async () => {
    fault({ path: LTS_X86, kind: 'status', status: 403, headers: { 'x-ratelimit-remaining': '0' } })
    const error = await expectFailure(await runAction({ inputs: inputs() }))
    expect(error).toContain('answered HTTP 403 (access denied or rate limited)')
  })

  it('429: retried, then a clear rate-limit message', async () => {
    fault({ path: LTS_X86, kind: 'status', status: 429, headers: { 'retry-after': '1' } })
    g.server.resetRequests()
    const error = await expectFailure(await runAction({ inputs: inputs() }))
    expect(error).toContain(
      'answered HTTP 429 (rate limited) after 3 attempts; retry later or use a mirror'
    )
    expect(g.server.requests(LTS_X86)).toHaveLength(3)
  })

  it('a connection dropped mid-body once: retried from the start; exactly the verified files are cached and bundled', async () => {
    fault({ path: LTS_X86, kind: 'drop-mid-body', times: 1 })
    g.server.resetRequests()
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const run = await runAction({ inputs: inputs(), toolCache })
    expect(run.exitCode).toBe(0)
    expect(g.server.requests(LTS_X86)).toHaveLength(2)
    // Nothing of the broken attempt survives: the bundle and the cache entry hold exactly the
    // archive's files with their generated digests, and no staging directory is left.
    const want = g.release.archives['latest-lts-x86_64']!.files
    const files = JSON.parse(run.outputs['files']!) as Array<{
      name: string
      sha256: string
      target?: string
    }>
    for (const [name, f] of Object.entries(want))
      expect(files.find(e => e.name === name)?.sha256).toBe(f.sha256)
    const entry = path.join(toolCache, 'hook_latest-lts-x86_64')
    const [version] = await readdir(entry)
    expect((await readdir(path.join(entry, version!, 'any'))).sort()).toEqual(
      ['.hook-archive.json', ...Object.keys(want)].sort()
    )
    expect(
      (await readdir(run.env['RUNNER_TEMP']!)).filter(n => !n.startsWith('hook-bundle-lts-'))
    ).toEqual([])
  })

  it('a connection dropped mid-body every time: fails after 3 attempts', async () => {
    fault({ path: LTS_X86, kind: 'drop-mid-body' })
    const error = await expectFailure(await runAction({ inputs: inputs() }))
    expect(error).toMatch(
      new RegExp(
        `^could not download hook_latest-lts-x86_64.tar.gz from ${g.server.url}/\\S+ after 3 attempts: `
      )
    )
  })

  it.each(['truncate', 'corrupt'] as const)(
    'a %s body: the SHA-512 check fails naming asset, expected and actual digest; nothing cached',
    async kind => {
      fault({ path: LTS_X86, kind })
      const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
      const error = await expectFailure(await runAction({ inputs: inputs(), toolCache }))
      const expected = g.release.assets['hook_latest-lts-x86_64.tar.gz']!.sha512
      expect(error).toMatch(
        new RegExp(
          `^hook_latest-lts-x86_64.tar.gz failed verification: checksum.txt says sha512 ${expected} but \\S+ gave [0-9a-f]{128}; the download is corrupt or the release changed, retry$`
        )
      )
      expect(await cached(toolCache)).not.toContain(expect.stringContaining('latest-lts-x86_64'))

      // Once the fault is gone the next run succeeds on the same runner.
      removeFault?.()
      const next = await runAction({ inputs: inputs(), toolCache })
      expect(next.exitCode).toBe(0)
      expect(await cached(toolCache)).toHaveLength(2)
    }
  )

  it.each(['slow', 'hang'] as const)(
    'a %s server: download-timeout fails the step clearly',
    async kind => {
      fault({ path: LTS_X86, kind, bytesPerSecond: 256 })
      const run = await runAction({ inputs: inputs({ 'download-timeout': '2' }) })
      const error = await expectFailure(run)
      expect(error).toBe(
        `downloading hook_latest-lts-x86_64.tar.gz from ${g.server.url}/releases/v0.11.1/hook_latest-lts-x86_64.tar.gz took longer than download-timeout (2 s): the server is stalled or too slow; retry, raise download-timeout or use a mirror (download-url)`
      )
      expect(run.ms).toBeLessThan(15_000)
    }
  )

  it('release not found: names the checksum.txt URL', async () => {
    const error = await expectFailure(
      await runAction({ inputs: inputs({ 'hook-version': 'v9.9.9' }) })
    )
    expect(error).toBe(
      `checksum.txt of tinkerbell/hook v9.9.9 not found: ${g.server.url}/releases/v9.9.9/checksum.txt answered HTTP 404; check the version, the repository and download-url`
    )
  })

  it('release server down: fails after 3 attempts naming the URL', async () => {
    const error = await expectFailure(
      await runAction({ inputs: inputs({ 'download-url': 'http://127.0.0.1:9/releases' }) })
    )
    expect(error).toMatch(
      /^could not download checksum.txt of tinkerbell\/hook v0.11.1 from http:\/\/127.0.0.1:9\/releases\/v0.11.1\/checksum.txt after 3 attempts: .*ECONNREFUSED/
    )
  })
})

/** Serves a one-off release `<tag>` whose archives (and checksum.txt) the test writes itself. */
async function oddRelease(
  tag: string,
  archives: Record<string, Buffer>,
  checksum?: string
): Promise<void> {
  const where = path.join(g.dir, 'releases', tag)
  await mkdir(where, { recursive: true })
  for (const [id, bytes] of Object.entries(archives))
    await writeFile(path.join(where, `hook_${id}.tar.gz`), bytes)
  if (checksum !== undefined) await writeFile(path.join(where, 'checksum.txt'), checksum)
  else
    await writeChecksumTxt(
      where,
      Object.entries(archives).map(([id, bytes]) => [sha512Hex(bytes), `hook_${id}.tar.gz`])
    )
}

function lts(x86: TarEntry[], arm?: TarEntry[]): Promise<Record<string, Buffer>> {
  const file = (name: string): TarEntry => ({ name, content: `${name} bytes` })
  return (async () => ({
    'latest-lts-x86_64': await makeTarGz(x86),
    'latest-lts-aarch64': await makeTarGz(
      arm ?? [file('vmlinuz-latest-lts-aarch64'), file('initramfs-latest-lts-aarch64')]
    )
  }))()
}

const K = { name: 'vmlinuz-latest-lts-x86_64', content: 'kernel' }
const I = { name: 'initramfs-latest-lts-x86_64', content: 'initramfs' }

describe('release content faults', () => {
  let n = 0
  const tag = (): string => `v1.0.${++n}`

  it.each([
    [
      'missing',
      undefined,
      /^checksum.txt of tinkerbell\/hook v1\.0\.\d+ not found: .* answered HTTP 404/
    ],
    [
      'empty',
      '',
      /^checksum.txt of tinkerbell\/hook v1\.0\.\d+ \(\S+\) is empty: it lists no assets$/
    ],
    [
      'malformed',
      'not a checksum line\n',
      /^checksum.txt of .* line 1 is not "<sha512 hex> <file name>": "not a checksum line"$/
    ],
    [
      'listing no bundles',
      `${'a'.repeat(128)} hook-x86_64.iso\n`,
      /lists no hook_<id>.tar.gz archive: this is not a hook release$/
    ],
    [
      'listing an asset twice with different digests',
      `${'a'.repeat(128)} hook_x86_64.tar.gz\n${'b'.repeat(128)} hook_x86_64.tar.gz\n`,
      /lists hook_x86_64.tar.gz twice with different SHA-512 digests$/
    ],
    [
      'naming an asset with characters outside [A-Za-z0-9._-]',
      `${'a'.repeat(128)} hook_$(id).tar.gz\n`,
      /line 1 names "hook_\$\(id\).tar.gz": asset names may only use A-Z a-z 0-9 . _ -$/
    ],
    [
      'of more than a megabyte (it is read into memory)',
      `${'a'.repeat(128)} hook_x86_64.tar.gz\n`.repeat(8200),
      /^checksum.txt of tinkerbell\/hook v1\.0\.\d+ from \S+ is larger than 1\.0 MiB: that is not a release's checksum file; check download-url$/
    ]
  ])('checksum.txt %s', async (_what, text, message) => {
    const t = tag()
    const where = path.join(g.dir, 'releases', t)
    await mkdir(where, { recursive: true })
    if (text !== undefined) await writeFile(path.join(where, 'checksum.txt'), text)
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toMatch(message)
  })

  const unsafe: Array<[string, TarEntry[], string]> = [
    ['../x', [K, I, { name: '../x', content: 'x' }], 'entry "../x" is not at the archive root'],
    [
      'an absolute path',
      [K, I, { name: '/etc/x', content: 'x' }],
      'entry "/etc/x" is not at the archive root'
    ],
    [
      'a symlink',
      [K, I, { name: 'evil', type: 'symlink', linkname: '/etc/passwd' }],
      'entry "evil" is a symlink -> /etc/passwd'
    ],
    [
      'a hard link',
      [K, I, { name: 'evil', type: 'link', linkname: 'vmlinuz-latest-lts-x86_64' }],
      'entry "evil" is a link -> vmlinuz-latest-lts-x86_64'
    ],
    [
      'a device',
      [K, I, { name: 'null', type: 'character-device' }],
      'entry "null" is a character-device'
    ],
    ['a fifo', [K, I, { name: 'pipe', type: 'fifo' }], 'entry "pipe" is a fifo'],
    ['a sub-directory', [K, I, { name: 'sub/', type: 'directory' }], 'entry "sub/" is a directory'],
    [
      'a file in a sub-directory',
      [K, I, { name: 'sub/f', content: 'f' }],
      'entry "sub/f" is not at the archive root'
    ],
    [
      'a name with odd characters',
      [K, I, { name: 'a b$c', content: 'x' }],
      'entry "a b$c" has characters outside A-Z a-z 0-9 . _ -'
    ],
    [
      'a name twice',
      [K, I, { name: 'vmlinuz-latest-lts-x86_64', content: 'other' }],
      'entry "vmlinuz-latest-lts-x86_64" appears twice or is reserved'
    ]
  ]

  it.each(unsafe)(
    'an archive with %s is refused before anything is written',
    async (_what, entries, message) => {
      const t = tag()
      await oddRelease(t, await lts(entries))
      const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
      const error = await expectFailure(
        await runAction({ inputs: inputs({ 'hook-version': t }), toolCache })
      )
      expect(error).toBe(
        `hook_latest-lts-x86_64.tar.gz is unsafe: ${message}; a hook archive holds only regular files at its root, refusing to use it`
      )
      expect((await cached(toolCache)).filter(e => e.includes('x86_64'))).toEqual([])
      // Nothing escaped the staging directory.
      expect(await readdir(path.dirname(toolCache))).not.toContain('x')
    }
  )

  it('a ./ prefix and a ./ root entry are fine', async () => {
    const t = tag()
    await oddRelease(
      t,
      await lts([
        { name: './', type: 'directory' },
        { ...K, name: `./${K.name}` },
        { ...I, name: `./${I.name}` }
      ])
    )
    const run = await runAction({ inputs: inputs({ 'hook-version': t }) })
    expect(run.exitCode).toBe(0)
  })

  it('an archive that is not gzip', async () => {
    const t = tag()
    const archives = await lts([K, I])
    archives['latest-lts-x86_64'] = Buffer.from('this is not a tarball at all')
    await oddRelease(t, archives)
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toMatch(/^hook_latest-lts-x86_64.tar.gz is not a valid gzip tar archive: /)
  })

  it.each([
    ['kernel', [I], 'vmlinuz-latest-lts-x86_64'],
    ['initramfs', [K], 'initramfs-latest-lts-x86_64']
  ])('an archive missing its %s', async (_what, entries, missing) => {
    const t = tag()
    await oddRelease(t, await lts(entries))
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toBe(
      `hook_latest-lts-x86_64.tar.gz has no ${missing}: a hook archive must carry vmlinuz-latest-lts-x86_64 and initramfs-latest-lts-x86_64`
    )
  })

  it('two archives giving one name different bytes', async () => {
    const t = tag()
    await oddRelease(
      t,
      await lts(
        [K, I, { name: 'README', content: 'x86' }],
        [
          { name: 'vmlinuz-latest-lts-aarch64', content: 'k' },
          { name: 'initramfs-latest-lts-aarch64', content: 'i' },
          { name: 'README', content: 'arm' }
        ]
      )
    )
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toBe(
      'hook_latest-lts-aarch64.tar.gz and hook_latest-lts-x86_64.tar.gz both contain README with different bytes; refusing to pick one'
    )
  })
})

// Issue 10 items 2, 6 and 7 (the extraction's part): archives that would be read differently by
// other tools, cannot be boot files, inflate without bound, or cannot be written.
describe('hostile and odd archives', () => {
  let n = 0
  const tag = (): string => `v2.0.${++n}`
  const x86 = 'hook_latest-lts-x86_64.tar.gz'

  async function refused(archives: Record<string, Buffer>): Promise<string> {
    const t = tag()
    await oddRelease(t, archives)
    const toolCache = await mkdtemp(path.join(g.dir, 'tc-'))
    const error = await expectFailure(
      await runAction({ inputs: inputs({ 'hook-version': t }), toolCache })
    )
    expect((await cached(toolCache)).filter(e => e.includes('x86_64'))).toEqual([])
    return error
  }

  it('an archive inflating far beyond its size stops at the bound, naming it', async () => {
    // 64 MiB of zeros gzip to about 64 KiB: far beyond 4 x the archive + 16 MiB.
    const error = await refused(await lts([K, { name: I.name, size: 64 << 20 }]))
    expect(error).toMatch(
      new RegExp(
        `^${x86} inflates to more than 4 × its compressed size plus 16.0 MiB \\(.+\\): a hook archive inflates about 1:1; refusing a damaged or hostile archive, nothing was kept$`
      )
    )
  })

  it('the same archive with a wrong digest: the digest is the cause reported', async () => {
    const t = tag()
    const archives = await lts([K, { name: I.name, size: 64 << 20 }])
    await oddRelease(
      t,
      archives,
      Object.entries(archives)
        .map(
          ([id, bytes]) =>
            `${id.includes('x86') ? 'f'.repeat(128) : sha512Hex(bytes)} hook_${id}.tar.gz\n`
        )
        .join('')
    )
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toMatch(
      new RegExp(`^${x86} failed verification: checksum.txt says sha512 f{128} `)
    )
  })

  const second = [{ name: 'evil', content: 'x' }]
  it('a second tar stream after the end-of-archive blocks is refused', async () => {
    const tarball = Buffer.concat([
      await makeTarGz([K, I], { gzip: false }),
      await makeTarGz(second, { gzip: false })
    ])
    const error = await refused({ ...(await lts([K, I])), 'latest-lts-x86_64': gzipSync(tarball) })
    expect(error).toBe(
      `${x86} holds more tar data after its end-of-archive blocks (entry "evil" at byte 3072 of the tar stream): GNU tar stops at the end-of-archive and never extracts it, so tools would read this archive differently; refusing it`
    )
  })

  it('a second gzip member holding another tar stream is refused', async () => {
    const members = Buffer.concat([await makeTarGz([K, I]), await makeTarGz(second)])
    const error = await refused({ ...(await lts([K, I])), 'latest-lts-x86_64': members })
    expect(error).toMatch(
      new RegExp(`^${x86} holds more tar data after its end-of-archive blocks \\(entry "evil" `)
    )
  })

  it('a second gzip member continuing the same tar stream reads the same everywhere: accepted', async () => {
    const tarball = await makeTarGz([K, I], { gzip: false })
    const split = 1024
    const t = tag()
    await oddRelease(t, {
      ...(await lts([K, I])),
      'latest-lts-x86_64': Buffer.concat([
        gzipSync(tarball.subarray(0, split)),
        gzipSync(tarball.subarray(split))
      ])
    })
    const run = await runAction({ inputs: inputs({ 'hook-version': t }) })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
  })

  it.each([
    ['vmlinuz-arm64', 'arm64'],
    ['initramfs-aarch64', 'arm64']
  ])('an x86 archive carrying %s is refused', async (name, arch) => {
    const error = await refused(await lts([K, I, { name, content: 'arm kernel' }]))
    expect(error).toBe(
      `${x86} carries ${name}, a standard name of ${arch} boot files that the bundle makes itself: an archive may carry a standard name only as its own vmlinuz-latest-lts-x86_64 or initramfs-latest-lts-x86_64; refusing it`
    )
  })

  it('an arm archive carrying vmlinuz-x86_64 is refused', async () => {
    const t = tag()
    await oddRelease(
      t,
      await lts(
        [K, I],
        [
          { name: 'vmlinuz-latest-lts-aarch64', content: 'k' },
          { name: 'initramfs-latest-lts-aarch64', content: 'i' },
          { name: 'vmlinuz-x86_64', content: 'x86 kernel' }
        ]
      )
    )
    const error = await expectFailure(await runAction({ inputs: inputs({ 'hook-version': t }) }))
    expect(error).toMatch(
      /^hook_latest-lts-aarch64.tar.gz carries vmlinuz-x86_64, a standard name of x86_64 boot files /
    )
  })

  it.each([
    ['kernel', [{ ...K, content: '' }, I], 'vmlinuz-latest-lts-x86_64'],
    ['initramfs', [K, { ...I, content: '' }], 'initramfs-latest-lts-x86_64']
  ])('an empty %s is refused', async (_what, entries, name) => {
    const error = await refused(await lts(entries))
    expect(error).toBe(
      `${x86} holds an empty ${name} (0 bytes): a kernel or initramfs cannot be empty; the release is broken, use another hook-version`
    )
  })

  it('an entry name too long for the file system', async () => {
    const long = 'a'.repeat(300)
    const error = await refused(await lts([K, I, { name: long, content: 'x' }]))
    expect(error).toBe(
      `${x86} has an entry whose name is 300 bytes long ("${'a'.repeat(32)}…"), too long for a file name on the runner (at most 255): a hook archive holds only vmlinuz-<id>, initramfs-<id> and dtbs-<id>.tar.gz; refusing it`
    )
  })

  it.each([
    ['S', 'a GNU sparse file (tar --sparse)'],
    ['V', 'a GNU volume header (tar --label)']
  ])('an entry of raw type %s is named for what it is', async (typeflag, what) => {
    const error = await refused(await lts([K, I, { name: 'odd', content: 'data', typeflag }]))
    expect(error).toBe(
      `${x86} is unsafe: entry "odd" is ${what}; a hook archive holds only regular files at its root, refusing to use it`
    )
  })

  // A full RUNNER_TEMP: a small tmpfs mounted over it in a private mount namespace (no root
  // needed where user namespaces are allowed).
  const namespaces =
    spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0
  ;(namespaces ? it : it.skip)('a full RUNNER_TEMP says so (ENOSPC)', async () => {
    const t = tag()
    const big = fileBytes('enospc', 'x86', 'initramfs', 1 << 20)
    await oddRelease(t, await lts([K, { name: I.name, content: big }]))
    const wrapper = path.join(g.dir, 'small-temp-node')
    await writeFile(
      wrapper,
      `#!/bin/bash\n# bash, not sh: dash drops INPUT_HOOK-VERSION and the other dashed names from the environment.\nexec unshare --user --map-root-user --mount bash -c 'mount -t tmpfs -o size=256k tmpfs "$RUNNER_TEMP" && exec "$0" "$@"' ${JSON.stringify(process.execPath)} "$@"\n`
    )
    await chmod(wrapper, 0o755)
    const error = await expectFailure(
      await runAction({ inputs: inputs({ 'hook-version': t }), node: wrapper })
    )
    expect(error).toMatch(
      new RegExp(
        // Both archives download at once: whichever fills the 256 KiB first says so.
        `^no space left to write the files of hook_latest-lts-(x86_64|aarch64)\\.tar\\.gz into \\S+ \\(ENOSPC\\): free disk space on the runner \\(RUNNER_TEMP\\) and run the step again$`
      )
    )
  })
})

describe('bad input and disk', () => {
  it.each([
    [
      'an unknown variant',
      { variant: 'armbian-nope' },
      /^variant "armbian-nope" is not offered by this release; available: armbian-bcm2711, /
    ],
    [
      'a variant with shell metacharacters',
      { variant: 'lts;rm -rf /' },
      /^variant "lts;rm -rf \/" is not a variant name/
    ],
    ['a version ../x', { 'hook-version': '../x' }, /^hook-version "..\/x" is not a hook release/]
  ])('%s', async (_what, extra, message) => {
    g.server.resetRequests()
    const error = await expectFailure(await runAction({ inputs: inputs(extra) }))
    expect(error).toMatch(message)
    expect(g.server.requests(/\.tar\.gz$/)).toEqual([])
  })

  it('a bundle-dir that is a file', async () => {
    const file = path.join(g.dir, 'a-file')
    await writeFile(file, 'x')
    const error = await expectFailure(await runAction({ inputs: inputs({ 'bundle-dir': file }) }))
    expect(error).toBe(
      `bundle-dir ${file} exists and is not a directory: give a new or empty directory, or leave bundle-dir empty`
    )
  })

  it('a bundle-dir that is not empty', async () => {
    const full = path.join(g.dir, 'full')
    await mkdir(full, { recursive: true })
    await writeFile(path.join(full, 'old'), 'x')
    const error = await expectFailure(await runAction({ inputs: inputs({ 'bundle-dir': full }) }))
    expect(error).toContain(`bundle-dir ${full} is not empty`)
    expect(await readdir(full)).toEqual(['old'])
  })

  it('a bundle-dir on a read-only path', async () => {
    const error = await expectFailure(
      await runAction({ inputs: inputs({ 'bundle-dir': '/sys/hook-bundle' }) })
    )
    expect(error).toMatch(
      /^bundle-dir \/sys\/hook-bundle cannot be created or written \((EPERM|EROFS|EACCES)\): choose a directory the runner can write, or leave bundle-dir empty$/
    )
  })
})
