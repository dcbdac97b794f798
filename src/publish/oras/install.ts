import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, chmod, readFile, rm, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import { cacheDirOnce } from '../../archives/tool-cache.js'
import { download } from '../../download/download.js'
import type { OrasInputs } from '../../inputs/inputs.js'
import { displayUrl } from '../../util/display-url.js'
import { ActionError, describeError } from '../../util/errors.js'
import {
  ORAS_MIRROR_ENV,
  ORAS_RELEASES_URL,
  PINNED_SHA256,
  UnsupportedPlatformError,
  orasAsset,
  parseOrasChecksums
} from './releases.js'

/** Written into the cached oras directory once its archive's sha256 was verified. */
interface OrasRecord {
  /** The sha256 the archive was verified against (pinned, given, or official checksums file). */
  archiveSha256: string
  binary: string
  binarySha256: string
}

const ORAS_RECORD = '.hook-oras.json'

/** The archive to install: where it is, what it must hash to, how it is cached. */
interface OrasArchive {
  url: string
  /** The binary's name inside the archive. */
  binaryName: string
  /** Tool cache version: a custom archive is cached under its own checksum. */
  cacheVersion: string
  expected: string
}

/**
 * Installs oras through the tool cache. A cached copy is run only after its binary's sha256 is
 * proved to be the one recorded when its archive passed the expected sha256: any job on a
 * self-hosted runner can write the tool cache, and oras receives the registry password. The
 * archive is otherwise downloaded, checked (pinned, given, or from the release's checksums
 * file), extracted and cached. Returns the absolute path of the binary.
 */
export async function installOras(inputs: OrasInputs, timeoutMs: number): Promise<string> {
  const archive = await orasArchive(inputs, timeoutMs)
  const what = `oras ${archive.cacheVersion}`
  const cached = tc.find('oras', archive.cacheVersion, os.arch())
  if (cached !== '') {
    const binary = path.join(cached, archive.binaryName)
    const damage = await checkCachedOras(cached, binary, archive.expected)
    if (damage === undefined) {
      core.info(`${what}: tool cache hit at ${cached}, binary sha256 re-verified, no download`)
      return binary
    }
    await evictOras(what, cached, damage)
  }
  const extracted = await downloadOras(archive, inputs.version, timeoutMs)
  const binary = path.join(extracted, archive.binaryName)
  let dir: string | undefined
  try {
    dir = await cacheDirOnce(extracted, 'oras', archive.cacheVersion, os.arch())
  } catch (err) {
    // The run's own verified copy (in RUNNER_TEMP, which lives as long as the job) serves
    // this job; a tool cache that cannot be written only costs the next job a download.
    core.warning(
      `${what}: could not save to the tool cache: ${describeError(err)}; this run uses its own verified copy, the next one downloads again`
    )
    return binary
  }
  if (dir === undefined) return binary
  await rm(extracted, { recursive: true, force: true })
  return path.join(dir, archive.binaryName)
}

async function orasArchive(inputs: OrasInputs, timeoutMs: number): Promise<OrasArchive> {
  const base = process.env[ORAS_MIRROR_ENV] || ORAS_RELEASES_URL
  let asset
  try {
    asset = orasAsset(inputs.version, process.platform, process.arch, base)
  } catch (err) {
    if (err instanceof UnsupportedPlatformError && inputs.url === undefined)
      throw new ActionError(err.message)
    asset = undefined
  }
  const binaryName = asset?.binary ?? (process.platform === 'win32' ? 'oras.exe' : 'oras')
  // A custom archive is cached under its own checksum, so it never shadows the official build.
  const cacheVersion =
    inputs.checksum === undefined
      ? inputs.version
      : `${inputs.version}-sha256-${inputs.checksum.slice(0, 32)}`
  // Known before the cache is looked at: a hit is bound to it. Without pinned data for this
  // version that costs fetching the small checksums file on every run.
  const expected =
    inputs.checksum ??
    PINNED_SHA256[asset!.name] ??
    (await officialChecksum(asset!.checksumsUrl, asset!.name, timeoutMs))
  return { url: inputs.url ?? asset!.url, binaryName, cacheVersion, expected }
}

/**
 * Downloads, verifies and extracts the archive, and records the binary's sha256 beside it.
 * Returns the directory it was extracted to.
 */
async function downloadOras(a: OrasArchive, version: string, timeoutMs: number): Promise<string> {
  const { url, binaryName, expected } = a
  const started = Date.now()
  const archive = await download(url, `oras ${version} archive`, timeoutMs)
  try {
    const actual = await sha256File(archive)
    if (actual !== expected) {
      throw new ActionError(
        `oras archive ${displayUrl(url)} failed verification: expected sha256 ${expected}, got ${actual}; refusing to run it`
      )
    }
    const zip = url.toLowerCase().endsWith('.zip')
    let extracted: string
    try {
      extracted = zip ? await tc.extractZip(archive) : await tc.extractTar(archive)
    } catch (err) {
      throw new ActionError(
        `oras archive ${displayUrl(url)} could not be extracted: ${describeError(err)}`
      )
    }
    const binary = path.join(extracted, binaryName)
    try {
      await access(binary)
    } catch {
      throw new ActionError(
        `oras archive ${displayUrl(url)} holds no ${binaryName} at its root; is oras-url the oras release archive?`
      )
    }
    await chmod(binary, 0o755)
    const record: OrasRecord = {
      archiveSha256: expected,
      binary: binaryName,
      binarySha256: await sha256File(binary)
    }
    await writeFile(path.join(extracted, ORAS_RECORD), `${JSON.stringify(record, null, 2)}\n`)
    core.info(`oras ${version}: downloaded and sha256 verified in ${Date.now() - started} ms`)
    return extracted
  } finally {
    await rm(archive, { force: true })
  }
}

/** Why a cached oras may not be run, or undefined when it is the recorded binary. */
async function checkCachedOras(
  dir: string,
  binary: string,
  expected: string
): Promise<string | undefined> {
  let record: Partial<OrasRecord>
  try {
    record = JSON.parse(await readFile(path.join(dir, ORAS_RECORD), 'utf8')) as OrasRecord
  } catch (err) {
    return `its record cannot be read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`
  }
  if (record?.archiveSha256 !== expected)
    return `its record was made for another archive than sha256 ${expected}`
  if (record.binary !== path.basename(binary)) return `its record names another binary`
  let actual: string
  try {
    actual = await sha256File(binary)
  } catch (err) {
    return `${path.basename(binary)} cannot be read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`
  }
  if (actual !== record.binarySha256)
    return `${path.basename(binary)} has sha256 ${actual}, recorded ${String(record.binarySha256)}`
  return undefined
}

/** As for archives: a damaged entry this job cannot remove must not fail this or later runs. */
async function evictOras(what: string, dir: string, why: string): Promise<void> {
  try {
    await rm(`${dir}.complete`, { force: true })
  } catch (err) {
    core.warning(
      `${what}: the damaged tool cache entry ${dir} (${why}) cannot be removed (${(err as NodeJS.ErrnoException).code ?? describeError(err)}); installing again and using this run's verified copy: remove the entry or let the runner's user write the tool cache`
    )
    return
  }
  core.warning(
    `${what}: ignoring the damaged tool cache entry ${dir} (${why}); never running it, installing again`
  )
}

async function officialChecksum(
  checksumsUrl: string,
  asset: string,
  timeoutMs: number
): Promise<string> {
  const file = await download(checksumsUrl, 'oras checksums file', timeoutMs)
  try {
    const sums = parseOrasChecksums(await readFile(file, 'utf8'))
    const sum = sums.get(asset)
    if (sum === undefined) {
      throw new ActionError(
        `${displayUrl(checksumsUrl)} lists no ${asset}: that oras release has no build for this runner (it has: ${[...sums.keys()].join(', ')})`
      )
    }
    return sum
  } finally {
    await rm(file, { force: true })
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}
