// Builds an "oras release" (the asset tarball and the checksums file) around the real oras CLI
// that script/setup built into .tools/oras/<version>/, laid out like the official release
// assets, so the action's install path (download, sha256, extraction, tool cache) runs for real.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync, constants as zlib } from 'node:zlib'
import tar from 'tar-stream'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')

/**
 * The version the action installs by default (action.yml's, which a unit test holds equal to
 * src/'s): what most tests run. Read from the file, so that the bench can import this module
 * with Node's own type stripping, which does not map src/'s `.js` imports to `.ts`.
 */
export const ORAS_VERSION = /^ {2}oras-version:\n(?: {4}.*\n)*? {4}default: '([^']+)'/m.exec(
  readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
)![1]!
/** A real release without a pinned sha256: verified against its checksums file. */
export const UNPINNED_ORAS_VERSION = '1.3.5'

/** The real oras binary of `version`, built by script/setup; a missing one fails with the fix. */
export function orasBinary(version: string = ORAS_VERSION): string {
  const binary = path.join(ROOT, '.tools', 'oras', version, 'oras')
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run script/setup (it builds oras ${version} with Go)`)
  }
  return binary
}

export interface BuildOrasReleaseOptions {
  version?: string
  os?: string
  arch?: string
  /** Leave the oras binary out of the tarball. */
  omitBinary?: boolean
  /**
   * A purpose-made stub in place of oras, for what no registry can make the real one do:
   * 'exit1' always fails; 'badjson' prints broken JSON for `push --format json` and runs the
   * real oras for everything else.
   */
  brokenBinary?: 'exit1' | 'badjson'
}

export interface OrasRelease {
  assetName: string
  archivePath: string
  sha256: string
  checksumsName: string
  checksumsPath: string
}

export function orasOs(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform
}

export function orasArch(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'armv7',
    s390x: 's390x',
    ppc64: 'ppc64le',
    riscv64: 'riscv64',
    loong64: 'loong64'
  }
  return map[arch] ?? arch
}

const LICENSE = 'Apache License, Version 2.0 (see the oras project)\n'

const EXIT1_STUB = `#!/bin/sh
echo 'Error: something failed' >&2
exit 1
`

function badJsonStub(real: string): string {
  return `#!/bin/sh
if [ "$1" = push ]; then
  for a in "$@"; do
    if [ "$a" = json ]; then printf '{"reference": "broken", "digest": \\n'; exit 0; fi
  done
fi
exec '${real}' "$@"
`
}

function tarGz(entries: { name: string; mode: number; content: Buffer }[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack()
    const chunks: Buffer[] = []
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer)
    })
    // Level 1: the binary is 17 MB and every suite packs it; the bytes are what matter.
    pack.on('end', () => resolve(gzipSync(Buffer.concat(chunks), { level: zlib.Z_BEST_SPEED })))
    pack.on('error', reject)
    const mtime = new Date('2025-11-20T10:00:00Z')
    for (const e of entries) {
      pack.entry(
        { name: e.name, mode: e.mode, size: e.content.length, mtime, uid: 1001, gid: 127 },
        e.content
      )
    }
    pack.finalize()
  })
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

/** The packed release asset of the real binary, made once per version and reused by every suite. */
async function realArchive(version: string): Promise<Buffer> {
  const cached = path.join(ROOT, '.tools', 'oras', version, `oras-release.tar.gz`)
  if (existsSync(cached)) return readFile(cached)
  const binary = orasBinary(version)
  const printed = execFileSync(binary, ['version'], { encoding: 'utf8' })
  if (!new RegExp(`^Version:\\s*${version.replace(/\./g, '\\.')}$`, 'm').test(printed))
    throw new Error(`${binary} is not oras ${version}: run script/setup`)
  const archive = await tarGz([
    { name: 'LICENSE', mode: 0o644, content: Buffer.from(LICENSE) },
    { name: 'oras', mode: 0o755, content: await readFile(binary) }
  ])
  // Suites run in parallel: write aside, then rename into place.
  const partial = `${cached}.${process.pid}`
  await writeFile(partial, archive)
  await rename(partial, cached)
  return archive
}

export async function buildOrasRelease(
  outDir: string,
  opts: BuildOrasReleaseOptions = {}
): Promise<OrasRelease> {
  const version = opts.version ?? ORAS_VERSION
  const os = opts.os ?? orasOs()
  const arch = opts.arch ?? orasArch()
  const assetName = `oras_${version}_${os}_${arch}.tar.gz`
  const checksumsName = `oras_${version}_checksums.txt`

  let archive: Buffer
  if (opts.omitBinary) {
    archive = await tarGz([{ name: 'LICENSE', mode: 0o644, content: Buffer.from(LICENSE) }])
  } else if (opts.brokenBinary) {
    const stub = opts.brokenBinary === 'exit1' ? EXIT1_STUB : badJsonStub(orasBinary(version))
    archive = await tarGz([
      { name: 'LICENSE', mode: 0o644, content: Buffer.from(LICENSE) },
      { name: 'oras', mode: 0o755, content: Buffer.from(stub) }
    ])
  } else {
    archive = await realArchive(version)
  }

  await mkdir(outDir, { recursive: true })
  const archivePath = path.join(outDir, assetName)
  await writeFile(archivePath, archive)
  const digest = sha256(archive)

  // The real checksums file lists every asset of the release; the others are placeholders here.
  const lines = new Map<string, string>([[assetName, digest]])
  for (const other of [
    `oras_${version}_darwin_amd64.tar.gz`,
    `oras_${version}_darwin_arm64.tar.gz`,
    `oras_${version}_linux_amd64.tar.gz`,
    `oras_${version}_linux_arm64.tar.gz`,
    `oras_${version}_linux_armv7.tar.gz`,
    `oras_${version}_windows_amd64.zip`
  ]) {
    if (!lines.has(other)) lines.set(other, sha256(`placeholder ${other}`))
  }
  const checksums = [...lines.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}`)
    .join('\n')
  const checksumsPath = path.join(outDir, checksumsName)
  await writeFile(checksumsPath, checksums + '\n')

  return { assetName, archivePath, sha256: digest, checksumsName, checksumsPath }
}
