// The oras test double must behave like oras 1.3.2 for everything the action uses. These tests
// drive it as a child process against a real distribution registry.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import tar from 'tar-stream'
import { buildOrasRelease, DOUBLE_PATH } from '../support/oras-double/release.js'
import { startFaultProxy, startRegistry, type Registry } from '../support/registry.js'

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

const sha256 = (b: Buffer | string): string =>
  'sha256:' + createHash('sha256').update(b).digest('hex')

let work: string
let home: string

function run(
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string>; bin?: string } = {}
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.bin ?? DOUBLE_PATH, args, {
      cwd: opts.cwd ?? work,
      env: {
        ...process.env,
        HOME: home,
        DOCKER_CONFIG: path.join(home, '.docker'),
        ORAS_DOUBLE_RETRY_SCALE: '0.01',
        ...opts.env
      },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

let open: Registry
let secured: Registry
const USER = 'ci-bot'
const PASS = 'pa55-w0rd!'

beforeAll(async () => {
  chmodSync(DOUBLE_PATH, 0o755)
  work = await mkdtemp(path.join(tmpdir(), 'oras-double-'))
  home = path.join(work, 'home')
  await mkdir(home)
  ;[open, secured] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { username: USER, password: PASS } })
  ])
  await writeFile(path.join(work, 'a.txt'), 'alpha\n')
  await writeFile(path.join(work, 'b.bin'), Buffer.from([0, 1, 2, 3, 255]))
  await symlink('a.txt', path.join(work, 'link.txt'))
})

afterAll(async () => {
  await Promise.all([open?.stop(), secured?.stop()])
  await rm(work, { recursive: true, force: true })
})

describe('cli surface', () => {
  it('prints the version block of oras 1.3.2', async () => {
    const r = await run(['version'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('Version:        1.3.2')
    expect(lines[1]).toMatch(/^Go version: {5}go1\.\d+\.\d+$/)
    expect(lines[2]).toMatch(/^OS\/Arch: {8}[a-z]+\/[a-z0-9]+$/)
    expect(lines[3]).toMatch(/^Git commit: {5}[0-9a-f]{40}$/)
    expect(lines[4]).toBe('Git tree state: clean')
    expect(r.stderr).toBe('')
  })

  it('rejects unknown flags, shorthands and commands like cobra', async () => {
    const a = await run(['push', '--no-such-flag', 'x/y:z', 'a.txt'])
    expect(a.code).toBe(1)
    expect(a.stderr).toBe('Error: unknown flag: --no-such-flag\n')
    const b = await run(['login', '-q', 'host'])
    expect(b.code).toBe(1)
    expect(b.stderr).toBe("Error: unknown shorthand flag: 'q' in -q\n")
    const c = await run(['frobnicate'])
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/^Error: unknown command "frobnicate" for "oras"/)
    const d = await run(['push', '--concurrency'])
    expect(d.code).toBe(1)
    expect(d.stderr).toBe('Error: flag needs an argument: --concurrency\n')
  })

  it('prints help with exit 0', async () => {
    const r = await run(['push', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage:')
    expect(r.stdout).toContain('--artifact-type')
  })
})

describe('login against an htpasswd registry', () => {
  it('refuses a wrong password and writes no config', async () => {
    const cfg = path.join(work, 'wrong-login.json')
    const r = await run(
      [
        'login',
        secured.host,
        '-u',
        USER,
        '--password-stdin',
        '--plain-http',
        '--registry-config',
        cfg
      ],
      { input: 'nope\n' }
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error/)
    expect(r.stderr).toContain('unauthorized')
    expect(r.stderr).toContain(secured.host)
    await expect(stat(cfg)).rejects.toThrow()
  })

  it('stores the credential (0600) after checking it, password from stdin only', async () => {
    const cfg = path.join(work, 'login.json')
    await writeFile(cfg, JSON.stringify({ auths: { 'other.example:5000': { auth: 'eDp5' } } }))
    const args = [
      'login',
      secured.host,
      '-u',
      USER,
      '--password-stdin',
      '--plain-http',
      '--registry-config',
      cfg
    ]
    expect(args.join(' ')).not.toContain(PASS)
    const r = await run(args, { input: PASS + '\n' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('Login Succeeded\n')
    const written = JSON.parse(await readFile(cfg, 'utf8'))
    expect(written.auths[secured.host].auth).toBe(Buffer.from(`${USER}:${PASS}`).toString('base64'))
    expect(written.auths['other.example:5000'].auth).toBe('eDp5')
    expect((await stat(cfg)).mode & 0o777).toBe(0o600)

    // the stored credential is used by push; without it the registry refuses
    await writeFile(path.join(work, 'priv.txt'), 'private\n')
    const push = await run([
      'push',
      '--plain-http',
      '--registry-config',
      cfg,
      `${secured.host}/private/app:v1`,
      'priv.txt'
    ])
    expect(push.stderr).toBe('')
    expect(push.code).toBe(0)
    expect(await secured.listTags('private/app')).toEqual(['v1'])

    const anon = await run([
      'push',
      '--plain-http',
      '--registry-config',
      path.join(work, 'empty.json'),
      `${secured.host}/private/app:v2`,
      'priv.txt'
    ])
    expect(anon.code).toBe(1)
    expect(anon.stderr).toMatch(/^Error: .*basic credential not found/)

    const out = await run(['logout', secured.host, '--registry-config', cfg])
    expect(out.code).toBe(0)
    const after = JSON.parse(await readFile(cfg, 'utf8'))
    expect(after.auths[secured.host]).toBeUndefined()
  })

  it('warns when the password is given with -p and uses the default docker config', async () => {
    const r = await run(['login', secured.host, '-u', USER, '-p', PASS, '--plain-http'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n'
    )
    const cfg = JSON.parse(await readFile(path.join(home, '.docker', 'config.json'), 'utf8'))
    expect(cfg.auths[secured.host].auth).toBeDefined()
  })
})

describe('push', () => {
  it('pushes files (symlink followed), annotations and two tags as oras does', async () => {
    const annFile = path.join(work, 'ann.json')
    await writeFile(
      annFile,
      JSON.stringify({
        $manifest: { 'org.example.build': '42' },
        'a.txt': { 'org.example.kind': 'text' },
        'link.txt': { 'org.example.kind': 'link' }
      })
    )
    const exported = path.join(work, 'exported.json')
    const r = await run([
      'push',
      '--plain-http',
      '--artifact-type',
      'application/vnd.example.bundle',
      '--annotation-file',
      'ann.json',
      '--export-manifest',
      exported,
      '--format',
      'json',
      `${open.host}/hook/bundle:v1,latest`,
      'a.txt',
      'b.bin:application/octet-stream',
      'link.txt'
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const meta = JSON.parse(r.stdout)
    expect(Object.keys(meta)).toEqual([
      'reference',
      'mediaType',
      'digest',
      'size',
      'annotations',
      'artifactType',
      'referenceAsTags'
    ])
    expect(meta.reference).toBe(`${open.host}/hook/bundle@${meta.digest}`)
    expect(meta.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(meta.artifactType).toBe('application/vnd.example.bundle')
    // model.Tagged sorts the tags
    expect(meta.referenceAsTags).toEqual([
      `${open.host}/hook/bundle:latest`,
      `${open.host}/hook/bundle:v1`
    ])

    const m = await open.getManifest('hook/bundle', 'v1')
    expect(m.digest).toBe(meta.digest)
    expect(m.raw.length).toBe(meta.size)
    expect(sha256(m.raw)).toBe(meta.digest)
    expect((await open.getManifest('hook/bundle', 'latest')).digest).toBe(meta.digest)
    expect((await open.listTags('hook/bundle')).sort()).toEqual(['latest', 'v1'])
    expect(await readFile(exported)).toEqual(m.raw)

    // Go field order, no spaces
    expect(m.raw.toString()).toMatch(
      /^\{"schemaVersion":2,"mediaType":"application\/vnd\.oci\.image\.manifest\.v1\+json","artifactType":"application\/vnd\.example\.bundle","config":\{/
    )
    expect(m.body.config).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
      data: 'e30='
    })
    const layers = m.body.layers as {
      mediaType: string
      digest: string
      size: number
      annotations: Record<string, string>
    }[]
    expect(layers.map(l => l.annotations['org.opencontainers.image.title'])).toEqual([
      'a.txt',
      'b.bin',
      'link.txt'
    ])
    expect(layers.map(l => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar',
      'application/octet-stream',
      'application/vnd.oci.image.layer.v1.tar'
    ])
    expect(layers[0]!.annotations['org.example.kind']).toBe('text')
    expect(layers[2]!.annotations['org.example.kind']).toBe('link')
    expect(layers[1]!.annotations).toEqual({ 'org.opencontainers.image.title': 'b.bin' })
    // the symlink layer holds the target's bytes
    expect(layers[2]!.digest).toBe(sha256('alpha\n'))
    expect(layers[2]!.digest).toBe(layers[0]!.digest)
    expect(await open.getBlob('hook/bundle', layers[0]!.digest)).toEqual(Buffer.from('alpha\n'))
    expect(await open.headBlob('hook/bundle', layers[1]!.digest)).toBe(true)

    expect(m.body.annotations['org.example.build']).toBe('42')
    expect(m.body.annotations['org.opencontainers.image.created']).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/
    )
    expect(meta.annotations).toEqual(m.body.annotations)
    expect(await open.catalog()).toContain('hook/bundle')
  })

  it('prints the text status lines of oras push', async () => {
    const r = await run(['push', '--plain-http', `${open.host}/hook/text:v1`, 'a.txt', 'link.txt'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).toContain('Preparing a.txt')
    expect(lines).toContain(`Uploading ${sha256('alpha\n').slice(7, 19)} a.txt`)
    expect(lines).toContain(`Uploaded  ${sha256('alpha\n').slice(7, 19)} a.txt`)
    expect(lines).toContain(`Exists    ${sha256('alpha\n').slice(7, 19)} link.txt`)
    expect(lines).toContain(`Pushed [registry] ${open.host}/hook/text:v1`)
    expect(lines).toContain('ArtifactType: application/vnd.unknown.artifact.v1')
    const digest = (await open.getManifest('hook/text', 'v1')).digest
    expect(lines[lines.length - 1]).toBe(`Digest: ${digest}`)
  })

  it('keeps a given created annotation, so the same inputs give the same digest', async () => {
    const push = (tag: string) =>
      run([
        'push',
        '--plain-http',
        '--format',
        'json',
        '-a',
        'org.opencontainers.image.created=2024-01-02T03:04:05Z',
        '--annotation',
        'org.example.x=y',
        `${open.host}/hook/repro:${tag}`,
        'a.txt',
        'b.bin'
      ])
    const first = await push('one')
    const second = await push('two')
    expect(first.code).toBe(0)
    expect(second.code).toBe(0)
    const d1 = JSON.parse(first.stdout).digest
    expect(JSON.parse(second.stdout).digest).toBe(d1)
    const m = await open.getManifest('hook/repro', 'two')
    expect(m.digest).toBe(d1)
    expect(m.body.annotations).toEqual({
      'org.example.x': 'y',
      'org.opencontainers.image.created': '2024-01-02T03:04:05Z'
    })
  })

  it('reads created as Go time.Parse(time.RFC3339) does, before anything is pushed', async () => {
    const push = (created: string) =>
      run([
        'push',
        '--plain-http',
        '-a',
        `org.opencontainers.image.created=${created}`,
        `${open.host}/hook/created:x`,
        'a.txt'
      ])
    for (const created of [
      '2024-02-30T00:00:00Z',
      '2024-01-01t00:00:00Z',
      '2024-01-01T00:00:00z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:00:60Z',
      '2024-01-01T00:00:00+25:00'
    ]) {
      const r = await push(created)
      expect({ created, code: r.code }).toEqual({ created, code: 1 })
      expect(r.stderr).toContain(`invalid date and time format: parsing time "${created}"`)
    }
    expect(await open.listTags('hook/created').catch(() => [])).toEqual([])
    for (const created of [
      '2024-02-29T00:00:00Z',
      '2024-01-01T1:00:00Z',
      '2024-01-01T00:00:00,5Z',
      '2024-01-01T00:00:00+24:00'
    ]) {
      expect({ created, code: (await push(created)).code }).toEqual({ created, code: 0 })
    }
  })

  it('refuses --annotation together with --annotation-file', async () => {
    await writeFile(path.join(work, 'ann2.json'), '{"$manifest":{"a":"b"}}')
    const r = await run([
      'push',
      '--plain-http',
      '-a',
      'k=v',
      '--annotation-file',
      'ann2.json',
      `${open.host}/hook/conflict:v1`,
      'a.txt'
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'Error: `--annotation` and `--annotation-file` cannot be both specified\n'
    )
    expect(await open.listTags('hook/conflict')).toEqual([])
  })

  it('refuses absolute paths unless --disable-path-validation, and missing files', async () => {
    const abs = path.join(work, 'a.txt')
    const r = await run(['push', '--plain-http', `${open.host}/hook/abs:v1`, abs])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `Error: absolute file path detected. If it's intentional, use --disable-path-validation flag to skip this check: ${abs}\n`
    )
    const ok = await run([
      'push',
      '--plain-http',
      '--disable-path-validation',
      `${open.host}/hook/abs:v1`,
      abs
    ])
    expect(ok.code).toBe(0)
    const m = await open.getManifest('hook/abs', 'v1')
    expect(m.body.layers[0].annotations['org.opencontainers.image.title']).toBe(abs)

    const missing = await run(['push', '--plain-http', `${open.host}/hook/abs:v2`, 'nope.txt'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('Error: stat nope.txt: no such file or directory\n')
  })

  it('needs --plain-http for 127.0.0.1 (HTTPS otherwise)', async () => {
    const r = await run(['push', `${open.host}/hook/tls:v1`, 'a.txt'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: /)
    expect(r.stderr).toContain(`"https://${open.host}/v2/hook/tls/manifests/sha256:`)
    expect(r.stderr).toContain('http: server gave HTTP response to HTTPS client')
    expect(await open.listTags('hook/tls')).toEqual([])
  })

  it('packs a directory as tar+gzip with the unpack annotation', async () => {
    const dir = path.join(work, 'tree')
    await mkdir(path.join(dir, 'sub'), { recursive: true })
    await writeFile(path.join(dir, 'sub', 'x.txt'), 'x\n')
    const r = await run(['push', '--plain-http', `${open.host}/hook/dir:v1`, 'tree'])
    expect(r.code).toBe(0)
    const layer = (await open.getManifest('hook/dir', 'v1')).body.layers[0]
    expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    expect(layer.annotations['io.deis.oras.content.unpack']).toBe('true')
    expect(layer.annotations['org.opencontainers.image.title']).toBe('tree')
    const tarBytes = gunzipSync(await open.getBlob('hook/dir', layer.digest))
    expect(sha256(tarBytes)).toBe(layer.annotations['io.deis.oras.content.digest'])
    const names: string[] = []
    await new Promise<void>((resolve, reject) => {
      const ex = tar.extract()
      ex.on('entry', (h, s, next) => {
        names.push(h.name)
        s.resume()
        s.on('end', next)
      })
      ex.on('finish', resolve)
      ex.on('error', reject)
      ex.end(tarBytes)
    })
    expect(names).toEqual(['tree/', 'tree/sub/', 'tree/sub/x.txt'])
  })
})

describe('OCI image layout, fetch, pull and tags', () => {
  it('pushes to an OCI layout and pulls the files back', async () => {
    const layout = path.join(work, 'layout')
    const r = await run([
      'push',
      '--oci-layout',
      '--format',
      'json',
      `${layout}:v1,v2`,
      'a.txt',
      'link.txt'
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const meta = JSON.parse(r.stdout)
    expect(meta.reference).toBe(`${layout}@${meta.digest}`)
    expect(meta.referenceAsTags).toEqual([`${layout}:v1`, `${layout}:v2`])
    expect(JSON.parse(await readFile(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0'
    })
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'))
    expect(index.schemaVersion).toBe(2)
    const refNames = index.manifests.map(
      (d: { annotations: Record<string, string> }) =>
        d.annotations['org.opencontainers.image.ref.name']
    )
    expect(refNames.sort()).toEqual(['v1', 'v2'])
    expect(index.manifests.every((d: { digest: string }) => d.digest === meta.digest)).toBe(true)
    const blobs = await readdir(path.join(layout, 'blobs', 'sha256'))
    expect(blobs).toContain(meta.digest.slice(7))
    expect(blobs).toContain(sha256('alpha\n').slice(7))

    const outDir = path.join(work, 'pulled')
    const p = await run(['pull', '--oci-layout', '-o', outDir, `${layout}:v2`])
    expect(p.stderr).toBe('')
    expect(p.code).toBe(0)
    expect(await readFile(path.join(outDir, 'a.txt'), 'utf8')).toBe('alpha\n')
    expect(await readFile(path.join(outDir, 'link.txt'), 'utf8')).toBe('alpha\n')
    expect((await stat(path.join(outDir, 'link.txt'))).isFile()).toBe(true)
  })

  it('fetches manifests, descriptors and tags from the registry', async () => {
    const push = await run(['push', '--plain-http', `${open.host}/hook/fetch:t1,t2`, 'a.txt'])
    expect(push.code).toBe(0)
    const m = await open.getManifest('hook/fetch', 't1')
    const raw = await run(['manifest', 'fetch', '--plain-http', `${open.host}/hook/fetch:t1`])
    expect(raw.code).toBe(0)
    expect(raw.stdout).toBe(m.raw.toString())
    const desc = await run([
      'manifest',
      'fetch',
      '--descriptor',
      '--plain-http',
      `${open.host}/hook/fetch:t1`
    ])
    expect(JSON.parse(desc.stdout)).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: m.digest,
      size: m.raw.length
    })
    const tags = await run(['repo', 'tags', '--plain-http', `${open.host}/hook/fetch`])
    expect(tags.stdout).toBe('t1\nt2\n')
    const outDir = path.join(work, 'pulled-remote')
    const pull = await run(['pull', '--plain-http', '-o', outDir, `${open.host}/hook/fetch:t2`])
    expect(pull.code).toBe(0)
    expect(pull.stdout).toContain(`Digest: ${m.digest}`)
    expect(await readFile(path.join(outDir, 'a.txt'), 'utf8')).toBe('alpha\n')
    const missing = await run(['manifest', 'fetch', '--plain-http', `${open.host}/hook/fetch:nope`])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('not found')
  })
})

describe('images: --config, untagged pushes, manifest index create', () => {
  const config = (arch: string): string =>
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256('alpha\n')] }
    })

  async function pushImage(repo: string, arch: string): Promise<RunResult & { digest: string }> {
    await writeFile(path.join(work, `cfg-${arch}.json`), config(arch))
    const r = await run([
      'push',
      '--plain-http',
      '--format',
      'json',
      '--config',
      `cfg-${arch}.json:application/vnd.oci.image.config.v1+json`,
      '-a',
      'org.opencontainers.image.created=2025-01-01T00:00:00Z',
      `${open.host}/${repo}`,
      'a.txt:application/vnd.oci.image.layer.v1.tar'
    ])
    return { ...r, digest: r.code === 0 ? (JSON.parse(r.stdout).digest as string) : '' }
  }

  it('packs an image-spec 1.0 manifest with --config and no --artifact-type, untagged', async () => {
    const r = await pushImage('img/one', 'amd64')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const meta = JSON.parse(r.stdout)
    // no tag: pushed by digest, and oras still reports the empty tag it was given
    expect(meta.reference).toBe(`${open.host}/img/one@${meta.digest}`)
    expect(meta.referenceAsTags).toEqual([`${open.host}/img/one:`])
    expect(meta.artifactType).toBe('application/vnd.oci.image.config.v1+json')
    expect(await open.listTags('img/one')).toEqual([])
    const m = await open.getManifest('img/one', meta.digest)
    expect(m.raw.toString()).toMatch(
      /^\{"schemaVersion":2,"mediaType":"application\/vnd\.oci\.image\.manifest\.v1\+json","config":\{"mediaType":"application\/vnd\.oci\.image\.config\.v1\+json","digest":"sha256:[0-9a-f]{64}","size":\d+\},"layers":/
    )
    expect(m.body.artifactType).toBeUndefined()
    const cfg = await open.getBlob('img/one', m.body.config.digest)
    expect(cfg.toString()).toBe(config('amd64'))
  })

  it('applies the image-spec switch rules of oras 1.3', async () => {
    await writeFile(path.join(work, 'cfg.json'), '{}')
    const cfg = 'cfg.json:application/vnd.oci.image.config.v1+json'
    const v11 = await run(['push', '--image-spec', 'v1.1', '--config', cfg, `${open.host}/x/y`])
    expect(v11.code).toBe(1)
    expect(v11.stderr).toBe(
      'Error: missing artifact type for OCI image-spec v1.1 artifacts\nset an artifact type via `--artifact-type` or consider image spec v1.0\n'
    )
    const v10 = await run([
      'push',
      '--image-spec',
      'v1.0',
      '--config',
      cfg,
      '--artifact-type',
      'application/vnd.x',
      `${open.host}/x/y`
    ])
    expect(v10.code).toBe(1)
    expect(v10.stderr).toBe(
      'Error: --artifact-type and --config cannot both be provided for 1.0 OCI image\n'
    )
    const both = await run([
      'push',
      '--plain-http',
      '--format',
      'json',
      '--config',
      cfg,
      '--artifact-type',
      'application/vnd.x',
      `${open.host}/x/both`,
      'a.txt'
    ])
    expect(both.code).toBe(0)
    const m = await open.getManifest('x/both', JSON.parse(both.stdout).digest)
    expect(m.body.artifactType).toBe('application/vnd.x')
    expect(m.body.config.mediaType).toBe('application/vnd.oci.image.config.v1+json')
  })

  it('creates an index from two untagged manifests and tags it with every tag at once', async () => {
    const amd = await pushImage('img/multi', 'amd64')
    const arm = await pushImage('img/multi', 'arm64')
    expect(await open.listTags('img/multi')).toEqual([])
    const r = await run([
      'manifest',
      'index',
      'create',
      '--plain-http',
      `${open.host}/img/multi:v1,v1-lts,latest`,
      amd.digest,
      arm.digest,
      '-a',
      'org.example.b=2',
      '--annotation',
      'org.example.a=x=y'
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const index = await open.getManifest('img/multi', 'v1')
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    const short = index.digest.slice(7, 19)
    expect(r.stdout.split('\n').slice(0, 6)).toEqual([
      `Fetching  ${amd.digest}`,
      `Fetched   ${amd.digest}`,
      `Fetching  ${arm.digest}`,
      `Fetched   ${arm.digest}`,
      `Packed    ${short} application/vnd.oci.image.index.v1+json`,
      `Pushed    [registry] ${open.host}/img/multi:v1`
    ])
    expect(r.stdout.split('\n').slice(6, 8).sort()).toEqual(['Tagged latest', 'Tagged v1-lts'])
    expect(r.stdout.endsWith(`Digest: ${index.digest}\n`)).toBe(true)
    const sizeOf = async (d: string): Promise<number> =>
      (await open.getManifest('img/multi', d)).raw.length
    expect(index.raw.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${amd.digest}","size":${await sizeOf(amd.digest)},"platform":{"architecture":"amd64","os":"linux"}},` +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${arm.digest}","size":${await sizeOf(arm.digest)},"platform":{"architecture":"arm64","os":"linux"}}],` +
        `"annotations":{"org.example.a":"x=y","org.example.b":"2"}}`
    )
    expect((await open.listTags('img/multi')).sort()).toEqual(['latest', 'v1', 'v1-lts'])
    for (const t of ['latest', 'v1-lts'])
      expect((await open.getManifest('img/multi', t)).digest).toBe(index.digest)

    // no created annotation is added: the same sources give the same index
    const again = await run([
      'manifest',
      'index',
      'create',
      '--plain-http',
      `${open.host}/img/multi`,
      amd.digest,
      arm.digest,
      '-a',
      'org.example.b=2',
      '-a',
      'org.example.a=x=y'
    ])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`Pushed    [registry] ${open.host}/img/multi\n`)
    expect(again.stdout.endsWith(`Digest: ${index.digest}\n`)).toBe(true)
  })

  it('resolves tag sources, writes with --output, refuses what oras refuses', async () => {
    const amd = await pushImage('img/src', 'amd64')
    await run(['push', '--plain-http', `${open.host}/img/src:plain`, 'a.txt'])
    const out = await run([
      'manifest',
      'index',
      'create',
      '--plain-http',
      '--output',
      '-',
      `${open.host}/img/src:never`,
      amd.digest,
      'plain'
    ])
    expect(out.stderr).toBe('')
    expect(out.code).toBe(0)
    const index = JSON.parse(out.stdout)
    // an artifact's empty config has no platform; its artifactType is kept
    expect(index.manifests[1].platform).toBeUndefined()
    expect(index.manifests[1].artifactType).toBe('application/vnd.unknown.artifact.v1')
    expect(await open.listTags('img/src')).toEqual(['plain'])

    const missing = await run([
      'manifest',
      'index',
      'create',
      '--plain-http',
      `${open.host}/img/src:v1`,
      'nope'
    ])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      `Error response from registry: could not find the manifest nope: ${open.host}/img/src:nope: not found\n`
    )
    const noFormat = await run([
      'manifest',
      'index',
      'create',
      '--format',
      'json',
      `${open.host}/img/src:v1`
    ])
    expect(noFormat.code).toBe(1)
    expect(noFormat.stderr).toBe('Error: unknown flag: --format\n')
    const noFile = await run([
      'manifest',
      'index',
      'create',
      '--annotation-file',
      'a.json',
      `${open.host}/img/src:v1`
    ])
    expect(noFile.stderr).toBe('Error: unknown flag: --annotation-file\n')
    expect(await open.listTags('img/src')).toEqual(['plain'])
  })

  it('creates an index in an OCI image layout', async () => {
    const layout = path.join(work, 'img-layout')
    await writeFile(path.join(work, 'cfg-arm64.json'), config('arm64'))
    const p = await run([
      'push',
      '--oci-layout',
      '--format',
      'json',
      '--config',
      'cfg-arm64.json:application/vnd.oci.image.config.v1+json',
      layout,
      'a.txt'
    ])
    expect(p.code).toBe(0)
    const digest = JSON.parse(p.stdout).digest as string
    const r = await run(['manifest', 'index', 'create', '--oci-layout', `${layout}:a,b`, digest])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const refs = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')).manifests
    const tagged = refs.filter(
      (d: { annotations?: Record<string, string> }) =>
        d.annotations?.['org.opencontainers.image.ref.name'] !== undefined
    )
    expect(tagged.map((d: { mediaType: string }) => d.mediaType)).toEqual([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.index.v1+json'
    ])
    expect(r.stdout).toContain(`Pushed    [oci-layout] ${layout}:a\nTagged b\n`)
  })
})

describe('faults between oras and the registry', () => {
  it('retries a 500 on the upload start and succeeds', async () => {
    const proxy = await startFaultProxy(open.url, [
      { method: 'POST', path: /\/blobs\/uploads\/$/, status: 500, times: 1 }
    ])
    try {
      const r = await run(['push', '--plain-http', `${proxy.host}/fault/retry:v1`, 'a.txt'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(proxy.hits(0)).toBe(1)
      expect(await open.listTags('fault/retry')).toEqual(['v1'])
    } finally {
      await proxy.stop()
    }
  })

  it('gives up after oras-go retries on a 500 that does not go away', async () => {
    const proxy = await startFaultProxy(open.url, [
      { method: 'POST', path: /\/blobs\/uploads\/$/, status: 500 }
    ])
    try {
      const r = await run(['push', '--plain-http', `${proxy.host}/fault/down:v1`, 'a.txt'])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^Error/)
      expect(r.stderr).toContain('response status code 500')
      // 1 attempt + 5 retries, for each of the two blobs started concurrently
      expect(proxy.hits(0)).toBeGreaterThanOrEqual(6)
      expect(proxy.hits(0) % 6).toBe(0)
      expect(await open.listTags('fault/down')).toEqual([])
    } finally {
      await proxy.stop()
    }
  })

  it('reports registry errors: 403 denied, manifest invalid, connection reset', async () => {
    const denied = await startFaultProxy(open.url, [
      {
        method: 'POST',
        path: /\/blobs\/uploads\//,
        status: 403,
        headers: { 'Content-Type': 'application/json' },
        body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
      }
    ])
    const invalid = await startFaultProxy(open.url, [
      {
        method: 'PUT',
        path: /\/manifests\//,
        status: 400,
        headers: { 'Content-Type': 'application/json' },
        body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"bad"}]}'
      }
    ])
    const reset = await startFaultProxy(open.url, [
      { method: 'HEAD', path: /\/manifests\//, action: 'reset' }
    ])
    try {
      const a = await run(['push', '--plain-http', `${denied.host}/fault/denied:v1`, 'a.txt'])
      expect(a.code).toBe(1)
      expect(a.stderr).toContain('denied: requested access to the resource is denied')
      expect(denied.hits(0)).toBeGreaterThan(0)

      const b = await run(['push', '--plain-http', `${invalid.host}/fault/invalid:v1`, 'a.txt'])
      expect(b.code).toBe(1)
      expect(b.stderr).toContain('manifest invalid: manifest invalid: bad')
      expect(invalid.hits(0)).toBe(1)

      const c = await run(['push', '--plain-http', `${reset.host}/fault/reset:v1`, 'a.txt'])
      expect(c.code).toBe(1)
      expect(c.stderr).toMatch(/^Error: failed to perform "Exists" on destination: Head "http:/)
    } finally {
      await Promise.all([denied.stop(), invalid.stop(), reset.stop()])
    }
  })
})

describe('buildOrasRelease', () => {
  async function untar(archive: string): Promise<Map<string, { mode: number; data: Buffer }>> {
    const files = new Map<string, { mode: number; data: Buffer }>()
    const bytes = gunzipSync(await readFile(archive))
    await new Promise<void>((resolve, reject) => {
      const ex = tar.extract()
      ex.on('entry', (h, s, next) => {
        const chunks: Buffer[] = []
        s.on('data', (c: unknown) => {
          chunks.push(c as Buffer)
        })
        s.on('end', () => {
          files.set(h.name, { mode: h.mode ?? 0, data: Buffer.concat(chunks) })
          next()
        })
      })
      ex.on('finish', resolve)
      ex.on('error', reject)
      ex.end(bytes)
    })
    return files
  }

  it('builds a release whose checksum matches and whose oras runs', async () => {
    const dir = path.join(work, 'release')
    const rel = await buildOrasRelease(dir)
    expect(rel.assetName).toMatch(/^oras_1\.3\.2_(linux|darwin|windows)_[a-z0-9]+\.tar\.gz$/)
    expect(rel.checksumsName).toBe('oras_1.3.2_checksums.txt')
    expect(sha256(await readFile(rel.archivePath))).toBe('sha256:' + rel.sha256)
    const sums = await readFile(rel.checksumsPath, 'utf8')
    expect(sums.split('\n')).toContain(`${rel.sha256}  ${rel.assetName}`)
    const files = await untar(rel.archivePath)
    expect([...files.keys()].sort()).toEqual(['LICENSE', 'oras'])
    expect(files.get('oras')!.mode & 0o777).toBe(0o755)
    const bin = path.join(dir, 'extracted-oras')
    await writeFile(bin, files.get('oras')!.data, { mode: 0o755 })
    const v = await run(['version'], { bin })
    expect(v.code).toBe(0)
    expect(v.stdout.split('\n')[0]).toBe('Version:        1.3.2')
  })

  it('builds the broken variants', async () => {
    const dir = path.join(work, 'release-broken')
    const noBin = await buildOrasRelease(path.join(dir, 'a'), {
      omitBinary: true,
      version: '1.3.1',
      os: 'linux',
      arch: 'arm64'
    })
    expect(noBin.assetName).toBe('oras_1.3.1_linux_arm64.tar.gz')
    expect([...(await untar(noBin.archivePath)).keys()]).toEqual(['LICENSE'])

    const exit1 = await buildOrasRelease(path.join(dir, 'b'), { brokenBinary: 'exit1' })
    const bin1 = path.join(dir, 'oras-exit1')
    await writeFile(bin1, (await untar(exit1.archivePath)).get('oras')!.data, { mode: 0o755 })
    const r1 = await run(['version'], { bin: bin1 })
    expect(r1.code).toBe(1)
    expect(r1.stderr).toBe('Error: something failed\n')

    const bad = await buildOrasRelease(path.join(dir, 'c'), { brokenBinary: 'badjson' })
    const bin2 = path.join(dir, 'oras-badjson')
    await writeFile(bin2, (await untar(bad.archivePath)).get('oras')!.data, { mode: 0o755 })
    expect((await run(['version'], { bin: bin2 })).code).toBe(0)
    const r2 = await run(
      ['push', '--plain-http', '--format', 'json', `${open.host}/hook/bad:v1`, 'a.txt'],
      { bin: bin2 }
    )
    expect(r2.code).toBe(0)
    expect(() => JSON.parse(r2.stdout)).toThrow()
  })
})

// What the skip-published check and the tag mover use: `manifest fetch --format json`, its
// "not found", and `oras tag`, with the credentials on stdin and a never-written config.
describe('reading back and tagging (issue 9)', () => {
  const neverWritten = (): string => path.join(work, 'never-written', 'config.json')
  const creds = ['-u', USER, '--password-stdin', '--registry-config']

  it('manifest fetch --format json: the descriptor and the manifest, no config written', async () => {
    const repo = `${secured.host}/hook/fetch-json`
    const pushed = await run(
      ['push', ...creds, neverWritten(), '--plain-http', '-a', 'k=v', `${repo}:t1`, 'a.txt'],
      { input: PASS }
    )
    expect(pushed.code).toBe(0)
    const m = await secured.getManifest('hook/fetch-json', 't1')
    const r = await run(
      [
        'manifest',
        'fetch',
        '--format',
        'json',
        ...creds,
        neverWritten(),
        '--plain-http',
        `${repo}:t1`
      ],
      { input: PASS }
    )
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      reference: `${repo}@${m.digest}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: m.digest,
      size: m.raw.length,
      content: m.body
    })
    expect(JSON.parse(r.stdout).content.annotations.k).toBe('v')
    await expect(stat(neverWritten())).rejects.toThrow(/ENOENT/)
  })

  it('a missing tag is "not found" on stderr with exit 1; a wrong password is not', async () => {
    const repo = `${secured.host}/hook/fetch-json`
    const missing = await run(
      [
        'manifest',
        'fetch',
        '--format',
        'json',
        ...creds,
        neverWritten(),
        '--plain-http',
        `${repo}:nope`
      ],
      { input: PASS }
    )
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error response from registry: failed to fetch the content of "${repo}:nope": ${repo}:nope: not found\n`
    })
    const noRepo = await run([
      'manifest',
      'fetch',
      '--format',
      'json',
      '--plain-http',
      `${open.host}/never/pushed:t`
    ])
    expect(noRepo.code).toBe(1)
    expect(noRepo.stderr).toMatch(/never\/pushed:t: not found\n$/)
    const denied = await run(
      [
        'manifest',
        'fetch',
        '--format',
        'json',
        ...creds,
        neverWritten(),
        '--plain-http',
        `${repo}:t1`
      ],
      { input: 'wrong' }
    )
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(
      /^Error response from registry: .*unauthorized: authentication required/
    )
    expect(denied.stderr).not.toMatch(/not found/)
  })

  it('tag <repo>@<digest> t2 t3: one GET of the manifest, one PUT per tag, no blob', async () => {
    const pushed = await run(['push', '--plain-http', `${open.host}/hook/retag:t1`, 'a.txt'])
    expect(pushed.code).toBe(0)
    const m = await open.getManifest('hook/retag', 't1')
    const proxy = await startFaultProxy(open.url, [])
    try {
      const r = await run([
        'tag',
        '--plain-http',
        '--registry-config',
        neverWritten(),
        `${proxy.host}/hook/retag@${m.digest}`,
        't2',
        't3'
      ])
      expect(r.code).toBe(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines[0]).toBe(`Tagging [registry] ${proxy.host}/hook/retag@${m.digest}`)
      expect(lines.slice(1).sort()).toEqual(['Tagged t2', 'Tagged t3'])
      expect(r.stderr).toBe('')
      const manifestCalls = proxy.requests.filter(q => q.includes('/manifests/'))
      expect(manifestCalls.sort()).toEqual([
        `GET /v2/hook/retag/manifests/${m.digest}`,
        'PUT /v2/hook/retag/manifests/t2',
        'PUT /v2/hook/retag/manifests/t3'
      ])
      expect(proxy.requests.filter(q => q.includes('/blobs/'))).toEqual([])
    } finally {
      await proxy.stop()
    }
    for (const t of ['t2', 't3'])
      expect((await open.getManifest('hook/retag', t)).digest).toBe(m.digest)
  })

  it('tag of a digest the repository lacks: "not found", exit 1, nothing tagged', async () => {
    const absent = sha256('nothing')
    const r = await run(['tag', '--plain-http', `${open.host}/hook/retag@${absent}`, 'x'])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error response from registry: ${open.host}/hook/retag@${absent}: not found\n`
    })
    expect(await open.listTags('hook/retag')).not.toContain('x')
  })

  it('tag --oci-layout <dir>@<digest> t2: the layout index names the digest under t2', async () => {
    const layout = path.join(work, 'layout-retag')
    const pushed = await run(['push', '--oci-layout', `${layout}:t1`, 'a.txt'])
    expect(pushed.code).toBe(0)
    const index = async (): Promise<
      Array<{ digest: string; annotations?: Record<string, string> }>
    > => JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')).manifests
    const digest = (await index())[0]!.digest
    const r = await run(['tag', '--oci-layout', `${layout}@${digest}`, 't2'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`Tagging [oci-layout] ${layout}@${digest}\nTagged t2\n`)
    const named = (await index()).map(d => [
      d.annotations?.['org.opencontainers.image.ref.name'],
      d.digest
    ])
    expect(named.sort()).toEqual([
      ['t1', digest],
      ['t2', digest]
    ])
  })

  it('tag list: points at oras repo tags', async () => {
    const r = await run(['tag', 'list'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error: there is no "list" sub-command for "oras tag" command')
    expect(r.stderr).toContain(
      'If you want to list available tags in a repository, use "oras repo tags"'
    )
  })
})
