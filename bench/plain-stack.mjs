// The cold run's work written as plainly as possible on the libraries the action uses for it,
// and nothing else: every archive is fetched with @actions/http-client (node:http underneath),
// 4 at a time as the action fetches them; every body piece goes into a SHA-512 on this thread
// and into node:zlib's streaming gunzip (pieces of the action's INFLATE_CHUNK); tar-stream
// splits the tar; every file is sha256-hashed and written with positional writes as its pieces
// arrive. No checks, no tool cache, no worker threads, no retries, no bundle, and V8's garbage
// collection left at its defaults: one process, one thread of JavaScript (zlib and the kernel do
// what they do for the action too).
//
// Its CPU seconds are what the same work costs when the libraries are simply used. The
// primitives row (bench/primitives.mjs) leaves out what these libraries cost per piece
// (node:http copies every body piece out of a fresh 64 KiB socket buffer; node:zlib hands a
// fresh output buffer per piece; every buffer is garbage for V8 to collect), so the gap between
// the two rows is what the stack costs when used plainly; the gap between this row and cold is
// what the action adds to that, or saves (src/util/gc.ts, the hashing thread).
//
// With `--receive` it only receives the bodies (nothing hashed, inflated or written): through
// @actions/http-client with V8's defaults, then straight from a socket into one reused buffer
// (net's `onread`, a bare HTTP/1.1 GET written here for the measurement only), then through the
// library again with the action's garbage-collection settings (src/util/gc.ts itself; last,
// since V8 keeps the flags), and prints the CPU seconds of each as one line of JSON: what receiving costs through
// the library, plainly and as the action runs it, against what the kernel's copy alone costs.
// Usage: node bench/plain-stack.mjs [--receive] <scratch dir> <release url> <asset>...
import { createHash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { connect } from 'node:net'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { HttpClient } from '@actions/http-client'
import * as tar from 'tar-stream'
// The action's own garbage-collection settings, through Node's type stripping (as run.mjs
// imports the test support); until tuneCollections() runs, buffered() does nothing.
import { buffered, tuneCollections } from '../src/util/gc.ts'

const args = process.argv.slice(2)
const receiveOnly = args[0] === '--receive'
const [scratch, base, ...assets] = receiveOnly ? args.slice(1) : args
const CONNECTIONS = 4
/** The action's INFLATE_CHUNK (src/archives/archive.ts). */
const INFLATE_CHUNK = 512 << 10
const client = new HttpClient('hook-bundle-bench')

async function get(asset) {
  const res = await client.get(`${base}/${asset}`)
  if (res.message.statusCode !== 200) throw new Error(`${asset}: HTTP ${res.message.statusCode}`)
  return res.message
}

/** The cold run's work on one archive, as plainly as the libraries allow. */
async function unpack(asset) {
  const dir = path.join(scratch, asset)
  mkdirSync(dir, { recursive: true })
  const body = await get(asset)
  const sha512 = createHash('sha512')
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK })
  const extract = tar.extract()
  extract.on('entry', (header, stream, next) => {
    if (header.type !== 'file') {
      stream.resume()
      stream.on('end', next)
      return
    }
    const write = async () => {
      const fd = openSync(path.join(dir, path.basename(header.name)), 'wx', 0o644)
      const sha256 = createHash('sha256')
      let at = 0
      try {
        for await (const piece of stream) {
          sha256.update(piece)
          for (let done = 0; done < piece.length;)
            done += writeSync(fd, piece, done, piece.length - done, at + done)
          at += piece.length
        }
      } finally {
        closeSync(fd)
      }
      sha256.digest('hex')
    }
    write().then(() => next(), next)
  })
  const extracted = pipeline(gunzip, extract)
  for await (const piece of body) {
    sha512.update(piece)
    if (!gunzip.write(piece)) await new Promise(resolve => gunzip.once('drain', resolve))
  }
  gunzip.end()
  await extracted
  sha512.digest('hex')
}

/** Receives one body through the library, dropping it. */
async function receive(asset) {
  for await (const piece of await get(asset)) buffered(piece.length)
}

/** Receives one body straight from a socket into one reused buffer (measurement only). */
function receiveRaw(asset) {
  const url = new URL(`${base}/${asset}`)
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      onread: { buffer: Buffer.allocUnsafe(1 << 20), callback: () => true }
    })
    socket.on('connect', () =>
      socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)
    )
    socket.on('end', resolve)
    socket.on('error', reject)
  })
}

/** Runs `work` on every asset, CONNECTIONS at a time; returns the CPU seconds it took. */
async function timed(work) {
  const before = process.cpuUsage()
  const queue = [...assets]
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let asset; (asset = queue.shift()) !== undefined;) await work(asset)
    })
  )
  const used = process.cpuUsage(before)
  return Number(((used.user + used.system) / 1e6).toFixed(3))
}

if (receiveOnly) {
  const library = await timed(receive)
  const socket = await timed(receiveRaw)
  tuneCollections()
  const libraryTuned = await timed(receive)
  process.stdout.write(`${JSON.stringify({ receiveCpuS: { library, socket, libraryTuned } })}\n`)
} else {
  await timed(unpack)
  rmSync(scratch, { recursive: true, force: true })
}
