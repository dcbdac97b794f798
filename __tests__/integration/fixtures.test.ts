// Proves the test fixtures: the generated hook release has hook's exact layout, and the loopback
// server serves it, fakes the releases API and injects every fault kind as documented.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  EXTRA_IDS,
  ISO_IDS,
  SEED_IDS,
  isoAsset,
  fileBytes,
  generateRelease,
  makeTarGz,
  readTar,
  sha256Hex,
  sha512Hex,
  writeChecksumTxt,
  type GeneratedRelease
} from '../support/hook-release.js'
import { corruptOffsets, startServer, type TestServer } from '../support/server.js'

const CHECKSUM_LINE = /^[0-9a-f]{128} [^ ]+$/
const DTB_IDS = SEED_IDS.filter(id => id.startsWith('armbian-') && !id.includes('uefi'))

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fixtures-test-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

interface Got {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  complete: boolean
  error?: Error
}

/** Plain node:http client that reports what really happened on the wire. */
function get(url: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Got>(resolve => {
    const req = httpRequest(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false
    })
    req.on('response', res => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      const result = (error?: Error): Got => ({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(parts),
        complete: res.complete,
        ...(error ? { error } : {})
      })
      res.on('end', () => resolve(result()))
      res.on('error', err => resolve(result(err)))
    })
    req.on('error', error =>
      resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false, error })
    )
    req.end()
  })
}

/** Resolves with the response once headers are in; the body is left flowing into `parts`. */
function headersOf(url: string) {
  return new Promise<{
    status: number
    headers: IncomingHttpHeaders
    parts: Buffer[]
    ended: Promise<string>
  }>((resolve, reject) => {
    const req = httpRequest(url, { agent: false })
    req.on('error', reject)
    req.on('response', res => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      const ended = new Promise<string>(done => {
        res.on('end', () => done('end'))
        res.on('error', err => done(`error: ${err.message}`))
        res.on('close', () => done('close'))
      })
      resolve({ status: res.statusCode ?? 0, headers: res.headers, parts, ended })
    })
    req.end()
  })
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  for (const deadline = Date.now() + ms; !cond() && Date.now() < deadline;) {
    await new Promise(r => setTimeout(r, 10))
  }
}

describe('generateRelease', () => {
  let rel: GeneratedRelease

  beforeAll(async () => {
    rel = await generateRelease(join(work, 'default'))
  })

  it('writes one hook_<ID>.tar.gz per id, the ISOs and checksum.txt into dir/<tag>', async () => {
    expect(rel.tag).toBe('v0.11.1')
    expect(rel.dir).toBe(join(work, 'default', 'v0.11.1'))
    const names = (await readdir(rel.dir)).sort()
    const expected = [
      ...SEED_IDS.map(id => `hook_${id}.tar.gz`),
      ...ISO_IDS.map(isoAsset),
      'checksum.txt'
    ].sort()
    expect(names).toEqual(expected)
    expect(Object.keys(rel.archives)).toEqual([...SEED_IDS])
    expect(Object.keys(rel.assets).sort()).toEqual(expected.filter(n => n !== 'checksum.txt'))
  })

  it('archives hold vmlinuz/initramfs[/dtbs] at the root, no directories, 0644 root files', async () => {
    for (const id of SEED_IDS) {
      const archive = rel.archives[id]!
      const buf = await readFile(join(rel.dir, `hook_${id}.tar.gz`))
      expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
      const entries = await readTar(buf)
      const wantNames = [`vmlinuz-${id}`, `initramfs-${id}`]
      if (DTB_IDS.includes(id)) wantNames.push(`dtbs-${id}.tar.gz`)
      expect(entries.map(e => e.name)).toEqual(wantNames)
      expect(Object.keys(archive.files)).toEqual(wantNames)
      for (const e of entries) {
        expect(e.type).toBe('file')
        expect(e.name).not.toContain('/')
        expect(e.mode).toBe(0o644)
        expect([e.uid, e.gid]).toEqual([0, 0])
        const meta = archive.files[e.name]!
        expect(e.size).toBe(meta.size)
        expect(sha256Hex(e.data)).toBe(meta.sha256)
        expect(e.mtime.getTime()).toBe(meta.mtime.getTime())
      }
      expect(entries[0]!.data).toEqual(fileBytes('hook-fixture', id, `vmlinuz-${id}`, 4096))
      expect(entries[1]!.data).toEqual(fileBytes('hook-fixture', id, `initramfs-${id}`, 16384))
    }
  })

  it('the archives are readable by GNU tar too', () => {
    const out = execFileSync('tar', ['-tzf', join(rel.dir, 'hook_armbian-rk35xx-vendor.tar.gz')])
    expect(out.toString().trim().split('\n')).toEqual([
      'vmlinuz-armbian-rk35xx-vendor',
      'initramfs-armbian-rk35xx-vendor',
      'dtbs-armbian-rk35xx-vendor.tar.gz'
    ])
  })

  it('dtbs-<ID>.tar.gz is a gzip tar whose entries are all under dtbs-<ID>/', async () => {
    for (const id of DTB_IDS) {
      const outer = await readTar(await readFile(join(rel.dir, `hook_${id}.tar.gz`)))
      const dtbs = outer.find(e => e.name === `dtbs-${id}.tar.gz`)!
      expect(dtbs.data.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
      const inner = await readTar(dtbs.data)
      for (const e of inner) expect(e.name.startsWith(`dtbs-${id}/`)).toBe(true)
      const files = inner.filter(e => e.type === 'file')
      expect(files.length).toBeGreaterThanOrEqual(2)
      expect(files.some(e => e.name.endsWith('.dtb'))).toBe(true)
      // hook's own `tar --transform "s,^,dtbs-<ID>/," .` layout, directories included
      expect(inner[0]).toMatchObject({ name: `dtbs-${id}/./`, type: 'directory' })
      const meta = rel.archives[id]!.dtbFiles
      expect(Object.keys(meta)).toEqual(files.map(e => e.name))
      for (const f of files) expect(sha256Hex(f.data)).toBe(meta[f.name]!.sha256)
    }
    const uefi = rel.archives['armbian-uefi-arm64-edge']!
    expect(Object.keys(uefi.files)).not.toContain('dtbs-armbian-uefi-arm64-edge.tar.gz')
    expect(uefi.dtbFiles).toEqual({})
  })

  it("dtbsLayout 'plain' puts files directly under dtbs-<ID>/ without directory entries", async () => {
    const plain = await generateRelease(join(work, 'plain'), {
      ids: ['armbian-rockchip64-edge'],
      dtbsLayout: 'plain'
    })
    const outer = await readTar(
      await readFile(plain.assets['hook_armbian-rockchip64-edge.tar.gz']!.path)
    )
    const inner = await readTar(outer[2]!.data)
    expect(inner.map(e => e.name)).toEqual([
      'dtbs-armbian-rockchip64-edge/rockchip/rockchip64-board-a.dtb',
      'dtbs-armbian-rockchip64-edge/rockchip/rockchip64-board-b.dtb',
      'dtbs-armbian-rockchip64-edge/rockchip/overlay/rockchip64-fixup.dtbo'
    ])
  })

  it('checksum.txt: sorted `<sha512> <name>` lines, trailing newline, digests match', async () => {
    const text = await readFile(join(rel.dir, 'checksum.txt'), 'utf8')
    expect(text).toBe(rel.checksumText)
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.slice(0, -1).split('\n')
    expect(lines).toHaveLength(SEED_IDS.length + ISO_IDS.length)
    for (const line of lines) expect(line).toMatch(CHECKSUM_LINE)
    const names = lines.map(l => l.slice(129))
    expect(names).toEqual([...names].sort())
    for (const line of lines) {
      const [hex, name] = [line.slice(0, 128), line.slice(129)]
      const bytes = await readFile(join(rel.dir, name))
      expect(sha512Hex(bytes)).toBe(hex)
      expect(rel.assets[name]).toEqual({
        path: join(rel.dir, name),
        sha512: hex,
        size: bytes.length
      })
    }
    // sha512sum agrees (it reads the one-space format? no: it wants two spaces; check digests only)
    const sum = execFileSync('sha512sum', [join(rel.dir, 'hook_x86_64.tar.gz')]).toString()
    expect(sum.slice(0, 128)).toBe(rel.assets['hook_x86_64.tar.gz']!.sha512)
  })

  it('the last archive (in ids order) holds the newest entry', () => {
    const newest = Object.values(rel.archives).map(a => a.newestMtime.getTime())
    const last = rel.archives[SEED_IDS[SEED_IDS.length - 1]!]!.newestMtime.getTime()
    expect(Math.max(...newest)).toBe(last)
    expect(new Set(newest).size).toBe(newest.length)
    expect(rel.archives['x86_64']!.files['vmlinuz-x86_64']!.mtime).toEqual(
      new Date('2024-05-01T12:00:00Z')
    )
  })

  it('is deterministic: same options give identical bytes, other seeds/ids differ', async () => {
    const again = await generateRelease(join(work, 'again'))
    for (const [name, a] of Object.entries(rel.assets)) {
      expect(again.assets[name]!.sha512).toBe(a.sha512)
    }
    expect(again.checksumText).toBe(rel.checksumText)
    const other = await generateRelease(join(work, 'seeded'), { seed: 'other', ids: ['x86_64'] })
    expect(other.assets['hook_x86_64.tar.gz']!.sha512).not.toBe(
      rel.assets['hook_x86_64.tar.gz']!.sha512
    )
    const a = fileBytes('s', 'x86_64', 'f', 64)
    expect(fileBytes('s', 'aarch64', 'f', 64)).not.toEqual(a)
    expect(fileBytes('s', 'x86_64', 'g', 64)).not.toEqual(a)
    expect(fileBytes('s', 'x86_64', 'f', 64)).toEqual(a)
    // prefix-stable and incompressible
    expect(fileBytes('s', 'x86_64', 'f', 2 << 20).subarray(0, 64)).toEqual(a)
  })

  it('honours tag, ids, sizes, dtbs, extra assets, mtime and checksum formats', async () => {
    const iso = Buffer.from('not really an iso\n')
    const custom = await generateRelease(join(work, 'custom'), {
      tag: 'latest',
      ids: [...SEED_IDS, ...EXTRA_IDS],
      kernelSize: 1000,
      initramfsSize: 3000,
      dtbs: id => id === 'aarch64',
      extraAssets: { 'hook-x86_64-efi-initrd.iso': iso },
      checksumFormat: 'two-spaces',
      mtime: new Date('2025-02-03T04:05:06.789Z'),
      seed: 'custom'
    })
    expect(custom.dir).toBe(join(work, 'custom', 'latest'))
    expect(Object.keys(custom.archives)).toHaveLength(12)
    const aarch64 = custom.archives['aarch64']!
    expect(Object.keys(aarch64.files)).toEqual([
      'vmlinuz-aarch64',
      'initramfs-aarch64',
      'dtbs-aarch64.tar.gz'
    ])
    expect(Object.keys(custom.archives['armbian-genio-edge']!.files)).toHaveLength(2)
    expect(aarch64.files['vmlinuz-aarch64']!.size).toBe(1000)
    expect(aarch64.files['initramfs-aarch64']!.size).toBe(3000)
    expect(custom.archives['x86_64']!.newestMtime).toEqual(new Date('2025-02-03T04:05:07Z'))
    const lines = custom.checksumText.trimEnd().split('\n')
    // 12 archives and the 4 ISOs of the default and LTS flavors (x86_64's given as an extra).
    expect(lines).toHaveLength(16)
    expect(Object.keys(custom.isos).sort()).toEqual([
      'aarch64',
      'latest-lts-aarch64',
      'latest-lts-x86_64'
    ])
    for (const l of lines) expect(l).toMatch(/^[0-9a-f]{128} {2}[^ ]+$/)
    expect(lines).toContain(`${sha512Hex(iso)}  hook-x86_64-efi-initrd.iso`)
    // sha512sum -c understands the two-space format
    execFileSync('sha512sum', ['-c', '--quiet', 'checksum.txt'], { cwd: custom.dir })

    const star = await generateRelease(join(work, 'star'), {
      ids: ['x86_64'],
      isos: () => false,
      checksumFormat: 'star'
    })
    expect(star.checksumText).toMatch(/^[0-9a-f]{128} \*hook_x86_64\.tar\.gz\n$/)
  })

  it('builds hook-<ID>-efi-initrd.iso for the default and LTS flavors, as hook does', async () => {
    expect(Object.keys(rel.isos).sort()).toEqual([...ISO_IDS].sort())
    for (const id of ISO_IDS) {
      const iso = rel.isos[id]!
      expect(iso.asset).toBe(`hook-${id}-efi-initrd.iso`)
      const bytes = await readFile(join(rel.dir, iso.asset))
      expect(bytes.length).toBe(40960)
      expect(bytes.toString('latin1', 0x8001, 0x8006)).toBe('CD001')
      expect({ sha256: sha256Hex(bytes), sha512: sha512Hex(bytes) }).toEqual({
        sha256: iso.sha256,
        sha512: iso.sha512
      })
      expect(rel.checksumText).toContain(`${iso.sha512} ${iso.asset}\n`)
    }
    execFileSync('sha512sum', ['-c', '--quiet', 'checksum.txt'], { cwd: rel.dir })
  })

  it('writeChecksumTxt writes lines verbatim, in the given order', async () => {
    const dir = join(work, 'odd')
    const text = await writeChecksumTxt(dir, [
      ['b'.repeat(128), 'z.tar.gz'],
      ['a'.repeat(128), 'a.tar.gz']
    ])
    expect(text).toBe(`${'b'.repeat(128)} z.tar.gz\n${'a'.repeat(128)} a.tar.gz\n`)
    expect(await readFile(join(dir, 'checksum.txt'), 'utf8')).toBe(text)
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
  })
})

describe('makeTarGz', () => {
  it('keeps hostile names, types and links verbatim', async () => {
    const long = 'deep/'.repeat(30) + 'file'
    const buf = await makeTarGz([
      { name: '../x', content: 'evil' },
      { name: '/abs', content: Buffer.from([1, 2, 3]) },
      { name: './', type: 'directory' },
      { name: 'sub/dir/f', content: 'f', mode: 0o4755 },
      { name: 'ln', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'hard', type: 'link', linkname: '../x' },
      { name: 'dev', type: 'character-device' },
      { name: 'blk', type: 'block-device' },
      { name: 'pipe', type: 'fifo' },
      { name: long, content: 'long' },
      { name: 'zeros', size: 5000 }
    ])
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    const entries = await readTar(buf)
    expect(entries.map(e => [e.name, e.type])).toEqual([
      ['../x', 'file'],
      ['/abs', 'file'],
      ['./', 'directory'],
      ['sub/dir/f', 'file'],
      ['ln', 'symlink'],
      ['hard', 'link'],
      ['dev', 'character-device'],
      ['blk', 'block-device'],
      ['pipe', 'fifo'],
      [long, 'file'],
      ['zeros', 'file']
    ])
    expect(entries[0]!.data.toString()).toBe('evil')
    expect(entries[3]!.mode).toBe(0o4755)
    expect(entries[4]!.linkname).toBe('/etc/passwd')
    expect(entries[5]!.linkname).toBe('../x')
    expect(entries[10]!.data).toEqual(Buffer.alloc(5000))
    // GNU tar sees the same names (it only warns about, and lists, the leading '/')
    const listed = execFileSync('tar', ['-tzf', '-'], {
      input: buf,
      stdio: ['pipe', 'pipe', 'ignore']
    })
    expect(listed.toString()).toContain('../x\n')
  })

  it('writes a raw tar with gzip: false, and a lying size header on request', async () => {
    const raw = await makeTarGz([{ name: 'a', content: 'hello' }], { gzip: false })
    expect(raw.length).toBe(512 + 512 + 1024)
    expect(raw.subarray(257, 262).toString()).toBe('ustar')
    const lying = await makeTarGz([{ name: 'big', content: 'short', size: 1 << 20 }], {
      gzip: false
    })
    expect(lying.subarray(124, 135).toString()).toBe((1 << 20).toString(8).padStart(11, '0'))
    await expect(readTar(lying)).rejects.toThrow()
    expect(() => execFileSync('tar', ['-tf', '-'], { input: lying, stdio: 'pipe' })).toThrow()
    await expect(makeTarGz([{ name: 'd', type: 'directory', content: 'x' }])).rejects.toThrow(
      /only/
    )
  })
})

describe('startServer', () => {
  let server: TestServer
  let rel: GeneratedRelease
  let base: string
  const ASSET = 'hook_latest-lts-x86_64.tar.gz'

  beforeAll(async () => {
    rel = await generateRelease(join(work, 'served'), { ids: ['latest-lts-x86_64', 'x86_64'] })
    server = await startServer()
    server.serveDir('/tinkerbell/hook/releases/download', join(work, 'served'))
    base = `${server.url}/tinkerbell/hook/releases/download/v0.11.1`
  })
  afterAll(async () => {
    await server.stop()
  })

  it('listens on 127.0.0.1 and streams files with length and octet-stream type', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await get(`${base}/${ASSET}`)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/octet-stream')
    expect(res.headers['content-length']).toBe(String(rel.assets[ASSET]!.size))
    expect(sha512Hex(res.body)).toBe(rel.assets[ASSET]!.sha512)
    const sums = await fetch(`${base}/checksum.txt`)
    expect(await sums.text()).toBe(rel.checksumText)
  })

  it('answers HEAD with headers only, 404 with a small text body, and refuses traversal', async () => {
    const head = await get(`${base}/${ASSET}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(rel.assets[ASSET]!.size))
    expect(head.body.length).toBe(0)
    const missing = await get(`${base}/hook_nope.tar.gz`)
    expect(missing.status).toBe(404)
    expect(missing.body.toString()).toBe('Not Found\n')
    expect((await get(`${base}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404)
    expect((await get(`${base}/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`)).status).toBe(404)
    expect((await get(`${server.url}/tinkerbell/hook/releases/download/v0.11.1`)).status).toBe(404)
  })

  it('serves a root dir and custom routes, and records requests', async () => {
    const other = await startServer({ root: rel.dir })
    try {
      other.route('/hello', (_req, res) => res.end('hi'))
      expect((await get(`${other.url}/checksum.txt`)).body.toString()).toBe(rel.checksumText)
      expect((await get(`${other.url}/hello?x=1`)).body.toString()).toBe('hi')
      await get(`${other.url}/nope`, { headers: { authorization: 'Bearer t' } })
      expect(other.requests()).toEqual([
        expect.objectContaining({ method: 'GET', path: '/checksum.txt', status: 200 }),
        expect.objectContaining({ method: 'GET', path: '/hello?x=1', status: 200 }),
        expect.objectContaining({ path: '/nope', status: 404, authorization: 'Bearer t' })
      ])
      expect(other.requests(/^\/hello$/)).toHaveLength(1)
      other.resetRequests()
      expect(other.requests()).toEqual([])
    } finally {
      await other.stop()
    }
  })

  describe('faults', () => {
    it("'status' answers the status `times` times, then the file; removers work", async () => {
      server.resetRequests()
      server.fault({ path: /\.tar\.gz$/, times: 2, kind: 'status', status: 503 })
      expect((await get(`${base}/${ASSET}`)).status).toBe(503)
      expect((await get(`${base}/checksum.txt`)).status).toBe(200) // not matching
      expect((await get(`${base}/${ASSET}`)).status).toBe(503)
      const ok = await get(`${base}/${ASSET}`)
      expect(ok.status).toBe(200)
      expect(sha512Hex(ok.body)).toBe(rel.assets[ASSET]!.sha512)
      expect(server.requests(/\.tar\.gz$/).map(r => r.status)).toEqual([503, 503, 200])

      const remove = server.fault({
        path: /checksum/,
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' },
        body: '{"message":"slow down"}'
      })
      const limited = await get(`${base}/checksum.txt`)
      expect(limited.status).toBe(429)
      expect(limited.headers['retry-after']).toBe('1')
      expect(limited.headers['x-ratelimit-remaining']).toBe('0')
      expect(limited.headers['content-type']).toMatch(/application\/json/)
      expect(JSON.parse(limited.body.toString())).toEqual({ message: 'slow down' })
      expect((await get(`${base}/checksum.txt`)).status).toBe(429) // times defaults to Infinity
      remove()
      expect((await get(`${base}/checksum.txt`)).status).toBe(200)
    })

    it("'drop-mid-body' sends the full Content-Length, half the body, then resets", async () => {
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'drop-mid-body' })
      const res = await get(`${base}/${ASSET}`)
      expect(res.status).toBe(200)
      expect(res.headers['content-length']).toBe(String(rel.assets[ASSET]!.size))
      expect(res.complete).toBe(false)
      expect(res.error).toBeDefined()
      expect(res.body.length).toBeLessThanOrEqual(Math.floor(rel.assets[ASSET]!.size / 2))
      // fetch (undici) fails reading the body too
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'drop-mid-body' })
      const f = await fetch(`${base}/${ASSET}`)
      await expect(f.arrayBuffer()).rejects.toThrow()
    })

    it("'truncate' sends a short body without Content-Length that ends cleanly", async () => {
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'truncate' })
      const res = await get(`${base}/${ASSET}`)
      const full = await readFile(rel.assets[ASSET]!.path)
      expect(res.status).toBe(200)
      expect(res.headers['content-length']).toBeUndefined()
      expect(res.complete).toBe(true)
      expect(res.error).toBeUndefined()
      expect(res.body).toEqual(full.subarray(0, Math.floor(full.length / 2)))
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'truncate' })
      const f = await fetch(`${base}/${ASSET}`)
      expect((await f.arrayBuffer()).byteLength).toBe(Math.floor(full.length / 2))
    })

    it("'corrupt' serves the full length with some bytes flipped", async () => {
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'corrupt' })
      const res = await get(`${base}/${ASSET}`)
      const full = await readFile(rel.assets[ASSET]!.path)
      expect(res.complete).toBe(true)
      expect(res.body.length).toBe(full.length)
      expect(sha512Hex(res.body)).not.toBe(rel.assets[ASSET]!.sha512)
      const diff: number[] = []
      for (let i = 0; i < full.length; i++) if (res.body[i] !== full[i]) diff.push(i)
      expect(diff).toEqual(corruptOffsets(full.length))
      expect(diff[0]).toBeGreaterThan(0) // gzip magic intact: only the digest can tell
    })

    it("'slow' streams at bytesPerSecond and the whole body arrives", async () => {
      server.fault({ path: /checksum\.txt$/, times: 1, kind: 'slow', bytesPerSecond: 1000 })
      const start = Date.now()
      const res = await get(`${base}/checksum.txt`) // ~260 bytes
      const elapsed = Date.now() - start
      expect(res.body.toString()).toBe(rel.checksumText)
      expect(res.headers['content-length']).toBe(String(rel.checksumText.length))
      expect(elapsed).toBeGreaterThanOrEqual(200)
      expect(elapsed).toBeLessThan(2000)
    })

    it("'slow' stops writing when the client goes away", async () => {
      await until(() => server.openResponses() === 0)
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'slow', bytesPerSecond: 1000 })
      const before = server.openResponses()
      const req = httpRequest(`${base}/${ASSET}`, { agent: false })
      const first = new Promise<void>(resolve =>
        req.on('response', res => res.once('data', () => resolve()))
      )
      req.on('error', () => undefined)
      req.end()
      await first
      expect(server.openResponses()).toBe(before + 1)
      req.destroy()
      await until(() => server.openResponses() === before)
      expect(server.openResponses()).toBe(before)
    })

    it("'hang' sends headers and then nothing", async () => {
      server.fault({ path: new RegExp(ASSET), times: 1, kind: 'hang' })
      const res = await headersOf(`${base}/${ASSET}`)
      expect(res.status).toBe(200)
      expect(res.headers['content-length']).toBe(String(rel.assets[ASSET]!.size))
      const outcome = await Promise.race([
        res.ended,
        new Promise(r => setTimeout(() => r('still waiting'), 300))
      ])
      expect(outcome).toBe('still waiting')
      expect(res.parts).toHaveLength(0)
      expect(server.requests(new RegExp(ASSET)).at(-1)).toMatchObject({
        status: 200,
        fault: 'hang'
      })
    })

    it('stop() returns promptly with hanging and slow responses open', async () => {
      const s = await startServer({ root: rel.dir })
      s.fault({ path: /x86_64/, kind: 'hang' })
      s.fault({ path: /checksum/, kind: 'slow', bytesPerSecond: 10 })
      const hung = await headersOf(`${s.url}/${ASSET}`)
      const slow = await headersOf(`${s.url}/checksum.txt`)
      expect(s.openResponses()).toBe(2)
      const start = Date.now()
      await s.stop()
      expect(Date.now() - start).toBeLessThan(1000)
      expect(await hung.ended).not.toBe('end')
      expect(await slow.ended).not.toBe('end')
      const after = await get(`${s.url}/checksum.txt`)
      expect(after.error).toBeDefined()
      await s.stop() // idempotent
    })
  })

  describe('releasesApi', () => {
    const releases = [
      { tag_name: 'latest', name: 'Hook Latest Development Build' },
      { tag_name: 'v0.11.1' },
      { tag_name: 'v0.12.0-rc1', draft: true },
      { tag_name: 'v0.10.0', prerelease: false },
      { tag_name: 'v0.9.0' }
    ]

    beforeAll(() => {
      server.releasesApi('tinkerbell/hook', releases, { perPage: 2 })
    })

    it('paginates by the client per_page capped at perPage, with GitHub Link headers', async () => {
      server.resetRequests()
      const api = `${server.url}/repos/tinkerbell/hook/releases`
      const pages: Array<{ tags: string[]; link: string | null }> = []
      let next: string | undefined = `${api}?per_page=100&page=1`
      while (next) {
        const res: Response = await fetch(next, { headers: { authorization: 'token t0k' } })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toMatch(/^application\/json/)
        const body = (await res.json()) as Array<Record<string, unknown>>
        const link = res.headers.get('link')
        pages.push({ tags: body.map(r => String(r.tag_name)), link })
        next = /<([^>]+)>; rel="next"/.exec(link ?? '')?.[1]
      }
      expect(pages.map(p => p.tags)).toEqual([
        ['latest', 'v0.11.1'],
        ['v0.12.0-rc1', 'v0.10.0'],
        ['v0.9.0']
      ])
      const u = (p: number) => `<${api}?per_page=100&page=${p}>`
      expect(pages.map(p => p.link)).toEqual([
        `${u(2)}; rel="next", ${u(3)}; rel="last"`,
        `${u(1)}; rel="prev", ${u(3)}; rel="next", ${u(3)}; rel="last", ${u(1)}; rel="first"`,
        `${u(2)}; rel="prev", ${u(1)}; rel="first"`
      ])
      const seen = server.requests(/\/releases/)
      expect(seen).toHaveLength(3)
      for (const r of seen) expect(r).toMatchObject({ status: 200, authorization: 'token t0k' })
    })

    it('returns the GitHub release shape', async () => {
      const res = await fetch(`${server.url}/repos/tinkerbell/hook/releases?per_page=1&page=3`)
      expect(res.headers.get('link')).toContain('rel="next"')
      const [draft] = (await res.json()) as Array<Record<string, unknown>>
      expect(draft).toMatchObject({
        tag_name: 'v0.12.0-rc1',
        name: 'v0.12.0-rc1',
        draft: true,
        prerelease: true,
        published_at: null,
        assets: []
      })
      expect(typeof draft!.id).toBe('number')
      expect(typeof draft!.created_at).toBe('string')
      expect(String(draft!.html_url)).toMatch(/\/tinkerbell\/hook\/releases\/tag\/v0\.12\.0-rc1$/)
      const byTag = await fetch(`${server.url}/repos/tinkerbell/hook/releases/tags/v0.11.1`)
      expect(await byTag.json()).toMatchObject({ tag_name: 'v0.11.1', prerelease: true })
      const latest = await fetch(`${server.url}/repos/tinkerbell/hook/releases/latest`)
      expect(await latest.json()).toMatchObject({ tag_name: 'v0.10.0' })
    })

    it('404s unknown repos; faults apply to API paths', async () => {
      const unknown = await fetch(`${server.url}/repos/nobody/nothing/releases?per_page=100`)
      expect(unknown.status).toBe(404)
      expect(await unknown.json()).toMatchObject({ message: 'Not Found' })

      server.fault({
        path: /\/repos\/tinkerbell\/hook\/releases$/,
        times: 1,
        kind: 'status',
        status: 401,
        body: '{"message":"Bad credentials"}'
      })
      const bad = await fetch(`${server.url}/repos/tinkerbell/hook/releases?page=1`)
      expect(bad.status).toBe(401)
      expect(await bad.json()).toEqual({ message: 'Bad credentials' })

      const reset = String(Math.floor(Date.now() / 1000) + 60)
      server.fault({
        path: /page=2/,
        times: 1,
        kind: 'status',
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        body: '{"message":"API rate limit exceeded"}'
      })
      const limited = await fetch(`${server.url}/repos/tinkerbell/hook/releases?page=2`)
      expect(limited.status).toBe(403)
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
      expect(limited.headers.get('x-ratelimit-reset')).toBe(reset)
    })

    it("works with the toolkit's Octokit paginate", async () => {
      const { getOctokit } = await import('@actions/github')
      const octokit = getOctokit('gh-token', { baseUrl: server.url })
      server.resetRequests()
      const all = await octokit.paginate(octokit.rest.repos.listReleases, {
        owner: 'tinkerbell',
        repo: 'hook',
        per_page: 100
      })
      expect(all.map(r => r.tag_name)).toEqual(releases.map(r => r.tag_name))
      const seen = server.requests(/\/releases/)
      expect(seen.map(r => r.path)).toEqual([
        '/repos/tinkerbell/hook/releases?per_page=100',
        '/repos/tinkerbell/hook/releases?per_page=100&page=2',
        '/repos/tinkerbell/hook/releases?per_page=100&page=3'
      ])
      for (const r of seen) expect(r.authorization).toBe('token gh-token')
    })
  })
})

describe('faults as @actions/tool-cache sees them', () => {
  let server: TestServer
  let rel: GeneratedRelease
  const g = globalThis as Record<string, unknown>
  const saved: Record<string, string | undefined> = {}

  beforeAll(async () => {
    rel = await generateRelease(join(work, 'tc'), { ids: ['x86_64'] })
    server = await startServer({ root: rel.dir })
    const temp = join(work, 'runner-temp')
    await mkdir(temp, { recursive: true })
    for (const k of ['RUNNER_TEMP', 'RUNNER_TOOL_CACHE']) saved[k] = process.env[k]
    process.env.RUNNER_TEMP = temp
    process.env.RUNNER_TOOL_CACHE = join(work, 'tool-cache')
    // tool-cache reads these from globalThis, not from the environment
    g.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS = 0
    g.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS = 0
  })
  afterAll(async () => {
    await server.stop()
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    delete g.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS
    delete g.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS
  })

  it('retries 5xx and dropped bodies, not 404; a truncated body "succeeds" short', async () => {
    const tc = await import('@actions/tool-cache')
    const url = `${server.url}/hook_x86_64.tar.gz`
    const want = rel.assets['hook_x86_64.tar.gz']!
    const quiet = process.stdout.write
    process.stdout.write = (() => true) as typeof process.stdout.write // core.info chatter
    try {
      server.fault({ path: /x86_64/, times: 1, kind: 'status', status: 502 })
      server.fault({ path: /x86_64/, times: 1, kind: 'drop-mid-body' })
      server.resetRequests()
      const got = await tc.downloadTool(url)
      expect(sha512Hex(await readFile(got))).toBe(want.sha512)
      expect(server.requests().map(r => r.status)).toEqual([502, 200, 200])

      server.resetRequests()
      await expect(tc.downloadTool(`${server.url}/missing.tar.gz`)).rejects.toThrow(/404/)
      expect(server.requests()).toHaveLength(1)

      server.fault({ path: /x86_64/, times: 1, kind: 'truncate' })
      const short = await readFile(await tc.downloadTool(url))
      expect(short.length).toBe(Math.floor(want.size / 2))
    } finally {
      process.stdout.write = quiet
    }
  })
})
