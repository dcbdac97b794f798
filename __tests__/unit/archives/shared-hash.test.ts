import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { FEED, HashedFeed } from '../../../src/archives/shared-hash.js'

// The hashing thread behind every download: digests must be exactly crypto's, every byte must
// reach `pass` once and in order, and a buffer may be refilled only once both are done with it.

/** Splits `data` into pieces of the given sizes, cycling through them. */
function pieces(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!)
    out.push(data.subarray(at, at + n))
    at += n
  }
  return out
}

async function feed(
  algorithm: 'sha256' | 'sha512',
  chunks: Buffer[],
  pass: (bytes: Buffer) => Promise<unknown> | undefined = () => undefined
): Promise<string> {
  const f = new HashedFeed(algorithm, pass)
  for (const chunk of chunks) await f.push(chunk)
  return f.digest()
}

const expected = (algorithm: string, data: Buffer): string =>
  createHash(algorithm).update(data).digest('hex')

describe('HashedFeed', () => {
  it.each([
    ['empty', 0, [1]],
    ['one byte', 1, [1]],
    ['exactly one buffer', FEED, [FEED]],
    ['one byte over a buffer', FEED + 1, [FEED + 1]],
    ['odd pieces across many buffers', 5 * FEED + 12345, [65536, 1, 3 * FEED, 4093]],
    ['pieces that end on buffer edges', 4 * FEED, [FEED / 2, FEED / 2, FEED]]
  ])('gives crypto’s digests, and passes every byte in order: %s', async (_, size, sizes) => {
    const data = randomBytes(size)
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const passed: Buffer[] = []
      const digest = await feed(algorithm, pieces(data, sizes), bytes => {
        passed.push(Buffer.from(bytes))
        return undefined
      })
      expect(digest).toBe(expected(algorithm, data))
      expect(Buffer.concat(passed).equals(data)).toBe(true)
      for (const p of passed.slice(0, -1)) expect(p.length).toBe(FEED)
    }
  })

  it('keeps many streams apart on the one hashing thread, concurrently and one after another', async () => {
    const inputs = Array.from({ length: 10 }, (_, i) => randomBytes(i * 200_000 + 17))
    const digests = await Promise.all(
      inputs.map((data, i) => feed(i % 2 ? 'sha256' : 'sha512', pieces(data, [70_000, 3])))
    )
    digests.forEach((d, i) => expect(d).toBe(expected(i % 2 ? 'sha256' : 'sha512', inputs[i]!)))
    // Buffers returned to the pool are reused by the next streams: their digests stay exact.
    for (const data of inputs.slice(0, 3)) {
      expect(await feed('sha256', pieces(data, [FEED - 1]))).toBe(expected('sha256', data))
    }
  })

  it('refills a buffer only once pass has read it: at most two are out at once', async () => {
    const data = randomBytes(6 * FEED)
    let out = 0
    let most = 0
    const passed: Buffer[] = []
    const digest = await feed('sha512', pieces(data, [100_000]), async bytes => {
      out++
      most = Math.max(most, out)
      await new Promise(resolve => setTimeout(resolve, 5))
      // Unchanged while it is out: nothing wrote over it meanwhile.
      passed.push(Buffer.from(bytes))
      out--
    })
    expect(most).toBe(2)
    expect(digest).toBe(expected('sha512', data))
    expect(Buffer.concat(passed).equals(data)).toBe(true)
  })

  it('writes every byte to the file on the hashing thread, and reports a failed write once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shared-hash-'))
    try {
      const data = randomBytes(3 * FEED + 777)
      const file = path.join(dir, 'out')
      const fd = openSync(file, 'wx')
      const failures: Error[] = []
      const f = new HashedFeed('sha256', () => undefined, { fd, failed: e => failures.push(e) })
      for (const chunk of pieces(data, [70_000, 1])) await f.push(chunk)
      expect(await f.digest()).toBe(expected('sha256', data))
      await f.settled()
      closeSync(fd)
      expect(failures).toEqual([])
      expect(readFileSync(file).equals(data)).toBe(true)
      // A descriptor open only for reading: every write fails; the digest is still exact.
      const readOnly = openSync(file, 'r')
      const g = new HashedFeed('sha512', () => undefined, {
        fd: readOnly,
        failed: e => failures.push(e)
      })
      await g.push(data)
      expect(await g.digest()).toBe(expected('sha512', data))
      await g.settled()
      closeSync(readOnly)
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatchObject({ code: 'EBADF', syscall: 'write' })
      expect(failures[0]!.message).toMatch(/^EBADF: bad file descriptor, write$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('abandons a stream without harm to the next ones', async () => {
    const f = new HashedFeed('sha256', () => undefined)
    await f.push(randomBytes(3 * FEED + 5))
    f.discard()
    f.discard()
    const data = randomBytes(2 * FEED + 9)
    expect(await feed('sha256', [data])).toBe(expected('sha256', data))
  })

  it('fails, never hangs, when the hashing thread is lost; the next stream gets a new one', async () => {
    // A slow pass keeps the other buffer busy: the failed one is awaited only later, and its
    // failure must not count as unhandled meanwhile.
    const a = new HashedFeed('sha256', () => new Promise(resolve => setTimeout(resolve, 100)))
    await a.push(randomBytes(FEED + 1))
    // An algorithm OpenSSL does not know throws inside the worker: it exits.
    const broken = new HashedFeed('no-such-hash' as 'sha256', () => undefined)
    await new Promise(resolve => setTimeout(resolve, 300))
    await expect(a.digest()).rejects.toThrow()
    broken.discard()
    const data = randomBytes(2 * FEED + 3)
    expect(await feed('sha512', pieces(data, [99_999]))).toBe(expected('sha512', data))
  })
})
