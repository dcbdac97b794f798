// Generates Tinkerbell hook releases in the exact layout hook publishes (see
// /work/shared/reference/HOOK-RELEASES.md), small and deterministic, plus raw tar builders for
// hostile archives. Everything here is test support: no network, node builtins + tar-stream.
import { createCipheriv, createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { constants as zlibConstants, createGzip, gunzipSync, gzipSync } from 'node:zlib'
import * as tar from 'tar-stream'

export type TarEntryType =
  'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo'

export interface TarEntry {
  /** Written verbatim: `../x`, `/abs`, `./`, `sub/dir/f` all come out as given. */
  name: string
  /** Default 'file'. */
  type?: TarEntryType
  /** File body (strings are UTF-8). Only for 'file' entries. */
  content?: Buffer | string
  /** Target of a symlink / hard link. */
  linkname?: string
  /** Permission bits (tar keeps & 0o7777). Default 0o644 (0o755 for directories). */
  mode?: number
  /** Default 2024-05-01T12:00:00Z. */
  mtime?: Date
  /** Raw type flag written over the header's, e.g. 'S' (GNU sparse) or 'V' (volume header). */
  typeflag?: string
  /**
   * Without `content`: a file of `size` zero bytes. With `content` of another length: the header
   * claims `size` but only `content` follows (a lying / truncated archive).
   */
  size?: number
}

export type ChecksumFormat = 'one-space' | 'two-spaces' | 'star'

export interface ReleaseOptions {
  /** Default 'v0.11.1'. */
  tag?: string
  /** OUTPUT_IDs; default SEED_IDS. */
  ids?: readonly string[]
  /** Bytes of each vmlinuz-<ID>; default 4096. */
  kernelSize?: number
  /** Bytes of each initramfs-<ID>; default 16384. */
  initramfsSize?: number
  /** Which ids ship dtbs-<ID>.tar.gz; default: armbian boards except armbian-uefi-*. */
  dtbs?: (id: string) => boolean
  /**
   * Which ids also get `hook-<ID>-efi-initrd.iso`, as hook's SUPPORTS_ISO flavors do; default:
   * the default and LTS flavors (`ISO_IDS`) among `ids`.
   */
  isos?: (id: string) => boolean
  /** Bytes of each ISO image; default 40960. */
  isoSize?: number
  /** Extra assets: written next to the archives and listed in checksum.txt. */
  extraAssets?: Record<string, Buffer>
  /** Default 'one-space', as hook writes it. */
  checksumFormat?: ChecksumFormat
  /**
   * Base entry mtime, default 2024-05-01T12:00:00Z (whole seconds). Archive i (in `ids` order)
   * gets entries at base + i minutes + j seconds, so the LAST archive's last entry is the newest.
   */
  mtime?: Date
  /** Changes every byte of every file; default 'hook-fixture'. */
  seed?: string
  /**
   * Layout of the nested dtbs tarball. 'hook' (default) is what hook's build produces with
   * `tar -czf dtbs-<ID>.tar.gz -C dir --transform "s,^,dtbs-<ID>/," .`: directory entries
   * `dtbs-<ID>/./`, `dtbs-<ID>/./<vendor>/`… and files `dtbs-<ID>/./<vendor>/<x>.dtb`.
   * 'plain': files only, `dtbs-<ID>/<vendor>/<x>.dtb`.
   */
  dtbsLayout?: 'hook' | 'plain'
}

export interface GeneratedFile {
  sha256: string
  size: number
  mtime: Date
  content?: never
}

export interface GeneratedArchive {
  /** `hook_<ID>.tar.gz` */
  asset: string
  /** Entries of the archive, in order: vmlinuz-<ID>, initramfs-<ID>[, dtbs-<ID>.tar.gz]. */
  files: Record<string, GeneratedFile>
  /** Regular files inside dtbs-<ID>.tar.gz keyed by their entry name; {} without dtbs. */
  dtbFiles: Record<string, GeneratedFile>
  newestMtime: Date
}

export interface GeneratedIso {
  /** `hook-<ID>-efi-initrd.iso` */
  asset: string
  sha256: string
  sha512: string
  size: number
}

export interface GeneratedRelease {
  tag: string
  /** dir/<tag> */
  dir: string
  /** Every asset listed in checksum.txt (archives + extra assets); checksum.txt itself is not. */
  assets: Record<string, { path: string; sha512: string; size: number }>
  archives: Record<string, GeneratedArchive>
  /** The ISO images by OUTPUT_ID. */
  isos: Record<string, GeneratedIso>
  checksumText: string
  /** dir/<tag>/checksum.txt */
  checksumPath: string
  seed: string
}

export const SEED_IDS: readonly string[] = Object.freeze([
  'x86_64',
  'aarch64',
  'latest-lts-x86_64',
  'latest-lts-aarch64',
  'armbian-uefi-arm64-edge',
  'armbian-uefi-x86-edge',
  'armbian-bcm2711-current',
  'armbian-meson64-edge',
  'armbian-rk35xx-vendor',
  'armbian-rockchip64-edge'
])

/** The flavors hook builds an EFI ISO for (SUPPORTS_ISO='yes' in its inventory). */
export const ISO_IDS: readonly string[] = Object.freeze([
  'x86_64',
  'aarch64',
  'latest-lts-x86_64',
  'latest-lts-aarch64'
])

/** hook's linuxkit `--format iso-efi-initrd --name hook-<ID>` output name. */
export function isoAsset(id: string): string {
  return `hook-${id}-efi-initrd.iso`
}

/** A board beyond the seed's four, and a second branch of rockchip64. */
export const EXTRA_IDS: readonly string[] = Object.freeze([
  'armbian-genio-edge',
  'armbian-rockchip64-current'
])

/** The six names Tinkerbell serves boot files under, sorted. */
export const STANDARD_NAMES: readonly string[] = Object.freeze([
  'initramfs-aarch64',
  'initramfs-arm64',
  'initramfs-x86_64',
  'vmlinuz-aarch64',
  'vmlinuz-arm64',
  'vmlinuz-x86_64'
])

export const DEFAULT_TAG = 'v0.11.1'
export const DEFAULT_SEED = 'hook-fixture'
export const DEFAULT_MTIME = new Date('2024-05-01T12:00:00Z')

export function defaultHasDtbs(id: string): boolean {
  return id.startsWith('armbian-') && !id.startsWith('armbian-uefi-')
}

export function sha512Hex(buf: Buffer | Uint8Array | string): string {
  return createHash('sha512').update(buf).digest('hex')
}

export function sha256Hex(buf: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(buf).digest('hex')
}

// ---------------------------------------------------------------------------------------------
// Deterministic, incompressible bytes: AES-256-CTR keystream keyed by sha256(seed, id, name).

function keystream(seed: string, id: string, name: string) {
  const key = createHash('sha256').update(`hook-fixture\0${seed}\0${id}\0${name}`).digest()
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
}

const CHUNK = 1 << 20

function* fileChunks(seed: string, id: string, name: string, size: number): Generator<Buffer> {
  const cipher = keystream(seed, id, name)
  const zeros = Buffer.alloc(Math.min(CHUNK, size))
  for (let left = size; left > 0; left -= CHUNK) {
    yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left))
  }
}

/** The bytes of file `name` of archive `id` (pseudo-random, deterministic, incompressible). */
export function fileBytes(seed: string, id: string, name: string, size: number): Buffer {
  return Buffer.concat([...fileChunks(seed, id, name, size)], size)
}

// ---------------------------------------------------------------------------------------------
// Raw tar building (hostile archives allowed).

function pad512(n: number): number {
  return Math.ceil(n / 512) * 512
}

function writeOctal(block: Buffer, offset: number, value: number, digits: number): void {
  block.write(value.toString(8).padStart(digits, '0') + ' ', offset, 'latin1')
}

/** Recomputes the checksum of a header block after a field was rewritten. */
function patchChecksum(block: Buffer): void {
  let sum = 8 * 32
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0
  for (let i = 156; i < 512; i++) sum += block[i] ?? 0
  writeOctal(block, 148, sum, 6)
}

/** Rewrites the size field of a ustar header block and its checksum. */
function patchHeaderSize(block: Buffer, size: number): void {
  if (size.toString(8).length > 11) {
    block[124] = 0x80
    let n = size
    for (let i = 11; i > 0; i--) {
      block[124 + i] = n % 256
      n = Math.floor(n / 256)
    }
  } else {
    writeOctal(block, 124, size, 11)
  }
  patchChecksum(block)
}

async function packOne(entry: TarEntry): Promise<Buffer> {
  const type = entry.type ?? 'file'
  let body: Buffer | undefined
  if (entry.content !== undefined) {
    if (type !== 'file') throw new Error(`makeTarGz: content is only supported for files (${type})`)
    body = Buffer.from(entry.content)
  } else if (type === 'file' && entry.size) {
    body = Buffer.alloc(entry.size)
  }
  const header: Partial<tar.Header> & { name: string } = {
    name: entry.name,
    type,
    mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
    mtime: entry.mtime ?? DEFAULT_MTIME,
    uid: 0,
    gid: 0,
    size: body?.length ?? 0
  }
  if (entry.linkname !== undefined) header.linkname = entry.linkname
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer)
  })()
  await new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve())
    if (body) pack.entry(header, body, cb)
    else pack.entry(header, cb).end(undefined)
  })
  pack.finalize()
  await collected
  const all = Buffer.concat(chunks)
  const blob = Buffer.from(all.subarray(0, all.length - 1024)) // drop the end-of-archive blocks
  const actual = body?.length ?? 0
  const at = blob.length - pad512(actual) - 512
  if (entry.size !== undefined && entry.size !== actual) {
    patchHeaderSize(blob.subarray(at, at + 512), entry.size)
  }
  if (entry.typeflag !== undefined) {
    blob.write(entry.typeflag, at + 156, 1, 'latin1')
    patchChecksum(blob.subarray(at, at + 512))
  }
  return blob
}

/** Builds a tar (gzip unless `gzip: false`) holding exactly `entries`, in order, verbatim. */
export async function makeTarGz(entries: TarEntry[], opts?: { gzip?: boolean }): Promise<Buffer> {
  const blobs: Buffer[] = []
  for (const entry of entries) blobs.push(await packOne(entry))
  blobs.push(Buffer.alloc(1024))
  const tarball = Buffer.concat(blobs)
  return opts?.gzip === false ? tarball : gzipSync(tarball)
}

export interface ReadTarEntry {
  name: string
  type: string
  size: number
  mode: number
  uid: number
  gid: number
  mtime: Date
  linkname: string | null
  data: Buffer
}

/** Lists a tar or tar.gz (detected by the gzip magic) with tar-stream, bodies included. */
export async function readTar(buf: Buffer): Promise<ReadTarEntry[]> {
  const raw = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf
  const extract = tar.extract()
  const out: ReadTarEntry[] = []
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const chunk of entry) parts.push(chunk as Buffer)
      const h = entry.header
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        size: h.size ?? 0,
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: h.mtime ?? new Date(0),
        linkname: h.linkname ?? null,
        data: Buffer.concat(parts)
      })
    }
  })()
  extract.end(raw)
  await done
  return out
}

// ---------------------------------------------------------------------------------------------
// Release generation.

export function checksumLine(hex: string, name: string, format: ChecksumFormat = 'one-space') {
  switch (format) {
    case 'two-spaces':
      return `${hex}  ${name}`
    case 'star':
      return `${hex} *${name}`
    default:
      return `${hex} ${name}`
  }
}

/** Writes `<dir>/checksum.txt` with the lines in the given order; returns its text. */
export async function writeChecksumTxt(
  dir: string,
  entries: Array<[hex: string, name: string]>,
  format: ChecksumFormat = 'one-space'
): Promise<string> {
  const text = entries.map(([hex, name]) => checksumLine(hex, name, format) + '\n').join('')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'checksum.txt'), text)
  return text
}

const VENDORS: Record<string, string> = {
  bcm2711: 'broadcom',
  bcm2712: 'broadcom',
  meson64: 'amlogic',
  rk35xx: 'rockchip',
  rockchip64: 'rockchip',
  rockchip: 'rockchip',
  genio: 'mediatek',
  mediatek: 'mediatek',
  sunxi64: 'allwinner'
}

/** The dtb files of a board: [path relative to dtbs-<ID>/, size]. */
function dtbList(id: string): Array<[string, number]> {
  const m = /^armbian-(.+)-[^-]+$/.exec(id)
  const board = m?.[1] ?? id
  const vendor = VENDORS[board] ?? 'generic'
  return [
    [`${vendor}/${board}-board-a.dtb`, 1536],
    [`${vendor}/${board}-board-b.dtb`, 2600],
    [`${vendor}/overlay/${board}-fixup.dtbo`, 700]
  ]
}

interface PlannedEntry {
  name: string
  size: number
  mtime: Date
  chunks: () => Iterable<Buffer>
}

async function buildDtbs(
  seed: string,
  id: string,
  mtime: Date,
  layout: 'hook' | 'plain'
): Promise<{ tgz: Buffer; files: Record<string, GeneratedFile> }> {
  const prefix = layout === 'hook' ? `dtbs-${id}/./` : `dtbs-${id}/`
  const files: Record<string, GeneratedFile> = {}
  const entries: TarEntry[] = []
  const dirs = new Set<string>()
  const addDir = (name: string) => {
    if (layout === 'hook' && !dirs.has(name)) {
      dirs.add(name)
      entries.push({ name, type: 'directory', mode: 0o755, mtime })
    }
  }
  addDir(prefix)
  for (const [rel, size] of dtbList(id)) {
    const parts = rel.split('/').slice(0, -1)
    for (let i = 1; i <= parts.length; i++) addDir(`${prefix}${parts.slice(0, i).join('/')}/`)
    const name = `${prefix}${rel}`
    const data = fileBytes(seed, id, name, size)
    entries.push({ name, content: data, mode: 0o644, mtime })
    files[name] = { sha256: sha256Hex(data), size, mtime }
  }
  return { tgz: await makeTarGz(entries), files }
}

async function writeArchive(
  path: string,
  entries: PlannedEntry[]
): Promise<{ sha512: string; size: number }> {
  const pack = tar.pack()
  const hash = createHash('sha512')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    }
  })
  const done = pipeline(
    pack,
    createGzip({ level: zlibConstants.Z_DEFAULT_COMPRESSION }),
    tap,
    createWriteStream(path)
  )
  try {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(
          { name: e.name, type: 'file', size: e.size, mode: 0o644, uid: 0, gid: 0, mtime: e.mtime },
          err => (err ? reject(err) : resolve())
        )
        const chunks = e.chunks()[Symbol.iterator]()
        const pump = () => {
          for (;;) {
            const next = chunks.next()
            if (next.done) {
              sink.end(undefined)
              return
            }
            if (!sink.write(next.value)) {
              sink.once('drain', pump)
              return
            }
          }
        }
        sink.once('error', reject)
        pump()
      })
    }
    pack.finalize()
  } catch (err) {
    pack.destroy(err as Error)
    await done.catch(() => undefined)
    throw err
  }
  await done
  return { sha512: hash.digest('hex'), size }
}

/** Writes one hook release (archives, extra assets, checksum.txt) into `dir/<tag>/`. */
export async function generateRelease(
  dir: string,
  opts: ReleaseOptions = {}
): Promise<GeneratedRelease> {
  const tag = opts.tag ?? DEFAULT_TAG
  const ids = opts.ids ?? [...SEED_IDS]
  const seed = opts.seed ?? DEFAULT_SEED
  const kernelSize = opts.kernelSize ?? 4096
  const initramfsSize = opts.initramfsSize ?? 16384
  const hasDtbs = opts.dtbs ?? defaultHasDtbs
  const layout = opts.dtbsLayout ?? 'hook'
  const base = Math.floor((opts.mtime ?? DEFAULT_MTIME).getTime() / 1000) * 1000
  if (new Set(ids).size !== ids.length) throw new Error('generateRelease: duplicate ids')

  const out = join(dir, tag)
  await mkdir(out, { recursive: true })
  const assets: GeneratedRelease['assets'] = {}
  const archives: GeneratedRelease['archives'] = {}

  for (const [i, id] of ids.entries()) {
    const at = (j: number) => new Date(base + (i * 60 + j) * 1000)
    const planned: PlannedEntry[] = []
    const files: Record<string, GeneratedFile> = {}
    let dtbFiles: Record<string, GeneratedFile> = {}
    for (const [name, size] of [
      [`vmlinuz-${id}`, kernelSize],
      [`initramfs-${id}`, initramfsSize]
    ] as const) {
      const mtime = at(planned.length)
      const hash = createHash('sha256')
      for (const c of fileChunks(seed, id, name, size)) hash.update(c)
      files[name] = { sha256: hash.digest('hex'), size, mtime }
      planned.push({ name, size, mtime, chunks: () => fileChunks(seed, id, name, size) })
    }
    if (hasDtbs(id)) {
      const name = `dtbs-${id}.tar.gz`
      const mtime = at(planned.length)
      const dtbs = await buildDtbs(seed, id, mtime, layout)
      dtbFiles = dtbs.files
      files[name] = { sha256: sha256Hex(dtbs.tgz), size: dtbs.tgz.length, mtime }
      planned.push({ name, size: dtbs.tgz.length, mtime, chunks: () => [dtbs.tgz] })
    }
    const asset = `hook_${id}.tar.gz`
    const path = join(out, asset)
    const written = await writeArchive(path, planned)
    assets[asset] = { path, ...written }
    archives[id] = { asset, files, dtbFiles, newestMtime: at(planned.length - 1) }
  }

  const hasIso = opts.isos ?? ((id: string) => ISO_IDS.includes(id))
  const isos: GeneratedRelease['isos'] = {}
  for (const id of ids.filter(hasIso)) {
    const asset = isoAsset(id)
    const data = fileBytes(seed, id, asset, opts.isoSize ?? 40960)
    // An ISO 9660 primary volume descriptor's signature, where `file` and `blkid` look for it.
    if (data.length >= 0x8006) data.write('\x01CD001', 0x8000, 'latin1')
    const path = join(out, asset)
    await writeFile(path, data)
    const sha512 = sha512Hex(data)
    assets[asset] = { path, sha512, size: data.length }
    isos[id] = { asset, sha256: sha256Hex(data), sha512, size: data.length }
  }

  for (const [name, data] of Object.entries(opts.extraAssets ?? {})) {
    if (name === 'checksum.txt' || name.includes('/')) throw new Error(`bad extra asset ${name}`)
    const path = join(out, name)
    await writeFile(path, data)
    assets[name] = { path, sha512: sha512Hex(data), size: data.length }
    // An extra asset named like a generated ISO replaces it.
    for (const [id, iso] of Object.entries(isos)) if (iso.asset === name) delete isos[id]
  }

  const names = Object.keys(assets).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const checksumText = await writeChecksumTxt(
    out,
    names.map(n => [assets[n]?.sha512 ?? '', n]),
    opts.checksumFormat ?? 'one-space'
  )
  return {
    tag,
    dir: out,
    assets,
    archives,
    isos,
    checksumText,
    checksumPath: join(out, 'checksum.txt'),
    seed
  }
}
