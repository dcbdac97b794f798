import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tar from 'tar-stream'
import { planLayers } from '../../../src/publish/image-plan.js'
import { writeLayer } from '../../../src/publish/layer-tar.js'
import { FEED } from '../../../src/archives/shared-hash.js'

// A layer is written from shared half-megabyte buffers, two of them in flight at once, and
// hashed on the hashing thread: its bytes, its digest and its failures must be exact.

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hook-bundle-layer-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The single entry of a layer tarball: its header and content. */
async function readLayer(file: string): Promise<{ header: tar.Header; content: Buffer }[]> {
  const entries: { header: tar.Header; content: Buffer }[] = []
  const extract = tar.extract()
  extract.on('entry', (header, stream, next) => {
    const parts: Buffer[] = []
    stream.on('data', (d: unknown) => parts.push(d as Buffer))
    stream.on('end', () => {
      entries.push({ header, content: Buffer.concat(parts) })
      next()
    })
  })
  const done = new Promise((resolve, reject) => {
    extract.on('finish', () => resolve(undefined))
    extract.on('error', reject)
  })
  extract.end(await readFile(file))
  await done
  return entries
}

describe('writeLayer', () => {
  it('writes a file of many buffers, at an odd size, byte for byte, with its digest', async () => {
    const content = randomBytes(5 * FEED + 777)
    const source = path.join(dir, 'initramfs-x')
    await writeFile(source, content)
    const [spec] = planLayers([{ name: 'initramfs-x', size: content.length } as never])
    const dest = path.join(dir, 'initramfs-x.tar')
    const written = await writeLayer(spec!, source, dest)
    const bytes = await readFile(dest)
    expect(written.size).toBe(bytes.length)
    expect(written.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
    // The file's own bytes as read, to compare with the checked sha256.
    expect(written.content).toBe(createHash('sha256').update(content).digest('hex'))
    const entries = await readLayer(dest)
    expect(entries.map(e => [e.header.name, e.header.type, e.header.size])).toEqual([
      ['initramfs-x', 'file', content.length]
    ])
    expect(entries[0]!.content.equals(content)).toBe(true)
  })

  it('fails with the write error when the disk is full, and does not hang', async () => {
    const content = randomBytes(3 * FEED + 5)
    const source = path.join(dir, 'vmlinuz-x')
    await writeFile(source, content)
    const [spec] = planLayers([{ name: 'vmlinuz-x', size: content.length } as never])
    // /dev/full answers every write with ENOSPC.
    await expect(writeLayer(spec!, source, '/dev/full')).rejects.toMatchObject({ code: 'ENOSPC' })
  })
})
