import { Worker } from 'node:worker_threads'

/**
 * Hashes of bytes gathered in buffers shared with a worker thread, which hashes them where they
 * are. They exist for the downloads: the thread that receives, inflates and extracts is the one
 * a cold run waits for, and the SHA-512 of every archive plus the sha256 of every file would
 * cost it about a second per 500 MiB. Handing over is cheap only in large pieces: one message
 * per half megabyte (each hand-over costs the sending thread tens of microseconds on a VM), no
 * copy beyond the one that gathers the pieces, nothing allocated per piece. One worker serves
 * every stream: hashing runs at several times the speed a run downloads.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { writeSync } = require('node:fs')
const pairs = new Map()
const streams = new Map()
parentPort.on('message', m => {
  if (m.pair !== undefined && m.buffers !== undefined) {
    pairs.set(m.pair, m.buffers.map(b => Buffer.from(b)))
    return
  }
  if (m.open !== undefined) {
    streams.set(m.id, { hash: createHash(m.open), buffers: pairs.get(m.pair), fd: m.fd, at: 0 })
    return
  }
  const s = streams.get(m.id)
  if (!s) return
  if (m.index !== undefined) {
    const bytes = s.buffers[m.index].subarray(0, m.length)
    s.hash.update(bytes)
    let failed
    if (s.fd !== undefined) {
      try {
        for (let done = 0; done < bytes.length; ) {
          const n = writeSync(s.fd, bytes, done, bytes.length - done, s.at + done)
          if (n === 0) throw new Error('a write to ' + s.fd + ' took no bytes')
          done += n
        }
        s.at += bytes.length
      } catch (err) {
        s.fd = undefined
        failed = { message: String(err && err.message), code: err.code, syscall: err.syscall, errno: err.errno }
      }
    }
    parentPort.postMessage({ id: m.id, hashed: m.index, failed })
    return
  }
  streams.delete(m.id)
  parentPort.postMessage({ id: m.id, digest: m.digest ? s.hash.digest('hex') : '' })
})
`

/**
 * Bytes gathered before they are passed on: large enough that hand-overs are few, small enough
 * that the buffers stay a few megabytes in all (measured: 256 KiB costs more CPU; 1 MiB is no
 * faster and keeps 13 MiB more resident).
 */
export const FEED = 512 << 10

/**
 * Two shared buffers, reused from stream to stream: new ones per stream would stay allocated
 * until the worker's garbage collections, which are rare since it allocates almost nothing.
 */
interface Pair {
  id: number
  shared: SharedArrayBuffer[]
  buffers: Buffer[]
  /** The worker that knows these buffers. */
  known?: Worker
}

interface Stream {
  /** Resolvers of the updates not yet hashed, in order. */
  updates: Array<{ resolve: () => void; reject: (err: Error) => void }>
  end?: { resolve: (hex: string) => void; reject: (err: Error) => void }
  /** Told once when a write to the stream's file failed; nothing more is written to it. */
  writeFailed?: (err: Error) => void
}

/**
 * A file the hashing thread writes each buffer to (positional writes from offset 0, after it has
 * hashed them): one hand-over per buffer instead of a second one to the threadpool. `failed`
 * hears of the first failed write (a full disk); the hashing goes on.
 */
export interface FeedFile {
  fd: number
  failed: (err: Error) => void
}

let worker: Worker | undefined
const streams = new Map<number, Stream>()
const idlePairs: Pair[] = []
let nextPair = 0
let nextId = 0

/**
 * Gathers a stream's bytes into two shared buffers of FEED bytes used in turn: a full one is
 * hashed on the hashing thread and handed to `pass` (gunzip, a file), while the other fills; it
 * is refilled once both are done with it. No memory is allocated per piece (two views), and
 * the copy into the buffer is the only one.
 */
export class HashedFeed {
  private readonly id = nextId++
  /** The worker that holds this stream's hash; if it is lost, so is the stream. */
  private readonly worker: Worker
  private readonly pair: Pair
  private readonly stream: Stream = { updates: [] }
  private ended?: Promise<unknown>
  private readonly free: Array<Promise<unknown>> = [Promise.resolve(), Promise.resolve()]
  private current = 0
  private filled = 0

  /**
   * `pass` gets each buffer's bytes in order, and returns a promise that settles once it has
   * read them (or nothing, when it does not want them).
   */
  constructor(
    algorithm: 'sha256' | 'sha512',
    private readonly pass: (bytes: Buffer) => Promise<unknown> | undefined,
    file?: FeedFile
  ) {
    this.pair = idlePairs.pop() ?? newPair()
    const w = hasher()
    this.worker = w
    if (this.pair.known !== w) {
      w.postMessage({ pair: this.pair.id, buffers: this.pair.shared })
      this.pair.known = w
    }
    if (file) this.stream.writeFailed = file.failed
    streams.set(this.id, this.stream)
    w.ref()
    w.postMessage({ id: this.id, open: algorithm, pair: this.pair.id, fd: file?.fd })
  }

  /**
   * Takes the next bytes. Returns a promise, to be awaited before the next push, only when a
   * buffer was passed on: most pushes (64 KiB pieces) just copy.
   */
  push(chunk: Buffer): Promise<void> | undefined {
    for (let at = 0; at < chunk.length;) {
      const copied = Math.min(chunk.length - at, FEED - this.filled)
      // fill() with a buffer of exactly the range's length is one memcpy; copy() and set() into
      // a SharedArrayBuffer take V8's element-wise relaxed copy, 3-4 times slower.
      this.pair.buffers[this.current]!.subarray(this.filled, this.filled + copied).fill(
        chunk.subarray(at, at + copied)
      )
      at += copied
      this.filled += copied
      if (this.filled === FEED) {
        const rest = chunk.subarray(at)
        return this.flush().then(() => this.push(rest))
      }
    }
    return undefined
  }

  /** The digest of every byte pushed, once the last of them has been passed on. */
  async digest(): Promise<string> {
    await this.flush()
    await this.free[this.current ^ 1]
    return this.end(true)
  }

  /** Abandons the stream: nothing more is hashed or passed on. */
  discard(): void {
    if (this.ended !== undefined) return
    this.end(false).catch(() => undefined)
  }

  /**
   * Settles once the hashing thread is done with this stream (after digest or discard): until
   * then it may still write to the stream's file, whose descriptor must stay open.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([this.ended, ...this.free])
  }

  private end(digest: boolean): Promise<string> {
    const ended = new Promise<string>((resolve, reject) => {
      this.stream.end = { resolve, reject }
      this.post(reject, { id: this.id, digest })
    })
    this.ended = ended
    // The buffers go back to the pool only once nobody reads them any more.
    void Promise.allSettled([ended, ...this.free]).then(() => idlePairs.push(this.pair))
    return ended
  }

  /** Sends to this stream's worker, or fails at once if it is gone (another would not know it). */
  private post(reject: (err: Error) => void, message: object): void {
    if (worker === this.worker) this.worker.postMessage(message)
    else reject(new Error('internal: the hashing worker was lost'))
  }

  /** Passes what has gathered on, and waits until the other buffer may be filled again. */
  private async flush(): Promise<void> {
    if (this.filled > 0) {
      const index = this.current
      const bytes = this.pair.buffers[index]!.subarray(0, this.filled)
      const hashed = new Promise<void>((resolve, reject) => {
        this.stream.updates.push({ resolve, reject })
        this.post(reject, { id: this.id, index, length: bytes.length })
      })
      const done = Promise.all([hashed, this.pass(bytes)])
      // Awaited later (before this buffer is refilled, or by digest): until then a failure must
      // not count as unhandled, which would end the process before the action could report it.
      done.catch(() => undefined)
      this.free[index] = done
      this.current ^= 1
      this.filled = 0
    }
    await this.free[this.current]
  }
}

function newPair(): Pair {
  const shared = [new SharedArrayBuffer(FEED), new SharedArrayBuffer(FEED)]
  return { id: nextPair++, shared, buffers: shared.map(b => Buffer.from(b)) }
}

function hasher(): Worker {
  if (worker) return worker
  const w = new Worker(WORKER_SOURCE, { eval: true })
  worker = w
  w.unref()
  w.on('message', (m: { id: number; hashed?: number; digest?: string; failed?: object }) => {
    const stream = streams.get(m.id)
    if (!stream) return
    if (m.hashed !== undefined) {
      if (m.failed) {
        // As fs would have thrown it: the message, code and syscall say what failed.
        const { message, ...fields } = m.failed as { message: string }
        stream.writeFailed?.(Object.assign(new Error(message), fields))
        stream.writeFailed = undefined
      }
      stream.updates.shift()?.resolve()
      return
    }
    streams.delete(m.id)
    if (streams.size === 0) w.unref()
    stream.end?.resolve(m.digest ?? '')
  })
  const lost = (err: Error): void => {
    if (worker !== w) return
    worker = undefined
    for (const stream of streams.values()) {
      for (const update of stream.updates) update.reject(err)
      stream.end?.reject(err)
    }
    streams.clear()
  }
  w.on('error', lost)
  w.on('exit', code => lost(new Error(`hashing worker exited (${code})`)))
  return w
}
