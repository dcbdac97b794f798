// The primitives of a cold run, alone: the same archives through the same operations the action
// does (SHA-512 of the compressed bytes, inflate, sha256 of every file, writing every file), in
// one process, one after the other, with nothing else around them: no HTTP, no streams, no
// threads to hand over to, no tar library. Each archive is read from the page cache into memory
// first (not timed); each primitive is timed in CPU seconds (process.cpuUsage: user + system of
// the whole process), and the sums are printed as one line of JSON. What a cold run spends above
// this sum is overhead (see CONTRIBUTING.md, "Where a cold run's CPU goes").
//
// Inflate streams through one zlib handle in pieces of PRIMITIVES_INFLATE_CHUNK bytes (default
// 512 KiB, the action's INFLATE_CHUNK in src/archives/archive.ts; zlib's own default is 16 KiB,
// which costs far more), into one output buffer allocated and faulted in before anything is
// timed and reused for every archive: gunzipSync would fault in a fresh output of the whole
// archive each time (64 MiB here), and the row would measure page faults, not zlib.
// Usage: node bench/primitives.mjs <scratch dir> <archive>...
import { createHash } from 'node:crypto'
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync
} from 'node:fs'
import * as path from 'node:path'
import { constants, createGunzip } from 'node:zlib'

const [scratch, ...archives] = process.argv.slice(2)
const INFLATE_CHUNK = Number(process.env.PRIMITIVES_INFLATE_CHUNK ?? 512 << 10)
/** Each file is written as the action writes it: in pieces of its buffers' size (FEED). */
const WRITE_PIECE = 512 << 10
const BLOCK = 512

const cpu = { sha512: 0, inflate: 0, sha256: 0, write: 0 }
let compressedBytes = 0
let inflatedBytes = 0
let fileBytes = 0
let files = 0

/** Runs `work`, adds its CPU seconds (all threads of this process) to cpu[what]. */
function timed(what, work) {
  const before = process.cpuUsage()
  const result = work()
  const used = process.cpuUsage(before)
  cpu[what] += (used.user + used.system) / 1e6
  return result
}

/** The inflated size a gzip member records (ISIZE, its last 4 bytes: the size mod 2^32). */
function inflatedSize(archive) {
  const fd = openSync(archive, 'r')
  try {
    const trailer = Buffer.alloc(4)
    readSync(fd, trailer, 0, 4, fstatSync(fd).size - 4)
    return trailer.readUInt32LE(0)
  } finally {
    closeSync(fd)
  }
}

/**
 * Inflates `compressed` into `out` (which must be large enough), INFLATE_CHUNK bytes of output
 * per zlib call, as node:zlib's own streams call it; returns the inflated bytes (a view of out).
 */
function inflateInto(compressed, out) {
  const gunzip = createGunzip()
  const handle = gunzip._handle
  const state = gunzip._writeState
  let inOff = 0
  let inLen = compressed.length
  let outOff = 0
  for (;;) {
    const room = Math.min(INFLATE_CHUNK, out.length - outOff)
    if (room === 0) throw new Error('the inflated archive is larger than its recorded size')
    handle.writeSync(constants.Z_FINISH, compressed, inOff, inLen, out, outOff, room)
    const [availOut, availIn] = state
    outOff += room - availOut
    inOff += inLen - availIn
    inLen = availIn
    if (availOut !== 0) break
  }
  gunzip.close()
  return out.subarray(0, outOff)
}

/** The regular files of a tar stream (ustar / GNU, as hook's archives are): name and bytes. */
function* entries(tarBytes) {
  for (let at = 0; at + BLOCK <= tarBytes.length;) {
    const header = tarBytes.subarray(at, at + BLOCK)
    if (header.every(b => b === 0)) return
    const name = header.toString('latin1', 0, 100).replace(/\0.*$/s, '')
    const size = Number.parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/s, ''), 8)
    const type = String.fromCharCode(header[156] || 48)
    const start = at + BLOCK
    if (type === '0')
      yield { name: path.basename(name), bytes: tarBytes.subarray(start, start + size) }
    at = start + Math.ceil(size / BLOCK) * BLOCK
  }
}

// One output buffer for every archive, faulted in before anything is timed (+ 1 MiB: room for
// the last piece to show that nothing follows).
const inflateOut = Buffer.alloc(Math.max(...archives.map(inflatedSize)) + (1 << 20))

const wallStarted = process.hrtime.bigint()
for (const archive of archives) {
  const compressed = readFileSync(archive)
  compressedBytes += compressed.length
  timed('sha512', () => createHash('sha512').update(compressed).digest('hex'))
  const tarBytes = timed('inflate', () => inflateInto(compressed, inflateOut))
  inflatedBytes += tarBytes.length
  const dir = path.join(scratch, path.basename(archive, '.tar.gz'))
  mkdirSync(dir, { recursive: true })
  for (const { name, bytes } of entries(tarBytes)) {
    files++
    fileBytes += bytes.length
    timed('sha256', () => createHash('sha256').update(bytes).digest('hex'))
    timed('write', () => {
      const fd = openSync(path.join(dir, name), 'wx', 0o644)
      try {
        for (let done = 0; done < bytes.length;) {
          const end = Math.min(bytes.length, done + WRITE_PIECE)
          done += writeSync(fd, bytes, done, end - done, done)
        }
      } finally {
        closeSync(fd)
      }
    })
  }
  rmSync(dir, { recursive: true, force: true })
}

const round = x => Number(x.toFixed(3))
const MiB = 1 << 20
const rate = (bytes, s) => (s > 0 ? Math.round(bytes / MiB / s) : null)
process.stdout.write(
  `${JSON.stringify({
    archives: archives.length,
    files,
    compressedMiB: round(compressedBytes / MiB),
    inflatedMiB: round(inflatedBytes / MiB),
    inflateChunk: INFLATE_CHUNK,
    cpuS: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v)])),
    sumS: round(Object.values(cpu).reduce((a, b) => a + b, 0)),
    mibPerCpuS: {
      sha512: rate(compressedBytes, cpu.sha512),
      inflate: rate(inflatedBytes, cpu.inflate),
      sha256: rate(fileBytes, cpu.sha256),
      write: rate(fileBytes, cpu.write)
    },
    wallS: round(Number(process.hrtime.bigint() - wallStarted) / 1e9)
  })}\n`
)
