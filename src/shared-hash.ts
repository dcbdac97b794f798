import { Worker } from 'node:worker_threads'

/**
 * A hash of bytes the caller gathers in buffers shared with a worker thread, which hashes them
 * where they are. It exists for the SHA-512 of each download: the thread that receives,
 * inflates and extracts is the one a cold run waits for, and hashing half a gigabyte would cost
 * it more than half a second. Handing over is cheap only in large pieces: one message per
 * megabyte (each hand-over costs the sending thread tens of microseconds on a VM), no copy (the
 * caller already gathers the body into megabyte buffers for gunzip), nothing allocated per piece.
 * One worker serves every stream: SHA-512 runs at several times the speed a run downloads.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const streams = new Map()
parentPort.on('message', m => {
  if (m.open !== undefined) {
    streams.set(m.id, { hash: createHash(m.open), buffers: m.buffers.map(b => Buffer.from(b)) })
    return
  }
  const s = streams.get(m.id)
  if (!s) return
  if (m.index !== undefined) {
    s.hash.update(s.buffers[m.index].subarray(0, m.length))
    parentPort.postMessage({ id: m.id, hashed: m.index })
    return
  }
  streams.delete(m.id)
  if (m.digest) parentPort.postMessage({ id: m.id, digest: s.hash.digest('hex') })
})
`

interface Stream {
  /** Resolvers of the updates not yet hashed, in order. */
  updates: Array<{ resolve: () => void; reject: (err: Error) => void }>
  digest?: { resolve: (hex: string) => void; reject: (err: Error) => void }
}

type Reply = { id: number; hashed?: number; digest?: string }

let worker: Worker | undefined
const streams = new Map<number, Stream>()
let nextId = 0

export class SharedHash {
  private readonly id = nextId++
  private readonly stream: Stream = { updates: [] }
  private ended = false

  /** `buffers` are the caller's: it fills them, and refills one only once its update resolves. */
  constructor(algorithm: 'sha256' | 'sha512', buffers: SharedArrayBuffer[]) {
    streams.set(this.id, this.stream)
    const w = hasher()
    w.ref()
    w.postMessage({ id: this.id, open: algorithm, buffers })
  }

  /** Hashes the first `length` bytes of buffer `index`; resolves once they have been read. */
  update(index: number, length: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.updates.push({ resolve, reject })
      hasher().postMessage({ id: this.id, index, length })
    })
  }

  digest(): Promise<string> {
    this.ended = true
    return new Promise((resolve, reject) => {
      this.stream.digest = { resolve, reject }
      hasher().postMessage({ id: this.id, digest: true })
    })
  }

  /** Abandons the stream: nothing more is hashed, and the worker lets go of the buffers. */
  discard(): void {
    if (this.ended) return
    this.ended = true
    hasher().postMessage({ id: this.id, discard: true })
    for (const update of this.stream.updates) update.resolve()
    this.stream.updates = []
    close(this.id)
  }
}

function close(id: number): void {
  streams.delete(id)
  if (streams.size === 0) worker?.unref()
}

function hasher(): Worker {
  if (worker) return worker
  const w = new Worker(WORKER_SOURCE, { eval: true })
  worker = w
  w.unref()
  w.on('message', (m: Reply) => {
    const stream = streams.get(m.id)
    if (!stream) return
    if (m.hashed !== undefined) {
      stream.updates.shift()?.resolve()
      return
    }
    close(m.id)
    if (m.digest !== undefined) stream.digest?.resolve(m.digest)
  })
  const lost = (err: Error): void => {
    if (worker !== w) return
    worker = undefined
    for (const [id, stream] of streams) {
      for (const update of stream.updates) update.reject(err)
      stream.digest?.reject(err)
      streams.delete(id)
    }
  }
  w.on('error', lost)
  w.on('exit', code => lost(new Error(`hashing worker exited (${code})`)))
  return w
}
