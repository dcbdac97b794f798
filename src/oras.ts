import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, chmod, readFile, rm } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import * as exec from '@actions/exec'
import * as tc from '@actions/tool-cache'
import { cacheDirOnce } from './cache.js'
import { download } from './download.js'
import { ActionError, describeError } from './errors.js'
import type { ImageTarget } from './image.js'
import type { OrasInputs } from './inputs.js'
import {
  ORAS_MIRROR_ENV,
  ORAS_RELEASES_URL,
  PINNED_SHA256,
  UnsupportedPlatformError,
  orasAsset,
  parseOrasChecksums
} from './oras-release.js'

/**
 * Installs oras through the tool cache: a cached copy means no network at all; otherwise the
 * archive is downloaded, its sha256 checked (pinned, given, or from the release's checksums
 * file), extracted and cached. Returns the absolute path of the binary.
 */
export async function installOras(inputs: OrasInputs, timeoutMs: number): Promise<string> {
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
  const cached = tc.find('oras', cacheVersion, os.arch())
  if (cached !== '') {
    core.info(`oras ${cacheVersion}: tool cache hit at ${cached}, no download`)
    return path.join(cached, binaryName)
  }

  const url = inputs.url ?? asset!.url
  const expected =
    inputs.checksum ??
    PINNED_SHA256[asset!.name] ??
    (await officialChecksum(asset!.checksumsUrl, asset!.name, timeoutMs))
  const started = Date.now()
  const archive = await download(url, `oras ${inputs.version} archive`, timeoutMs)
  try {
    const actual = await sha256File(archive)
    if (actual !== expected) {
      throw new ActionError(
        `oras archive ${url} failed verification: expected sha256 ${expected}, got ${actual}; refusing to run it`
      )
    }
    const zip = url.toLowerCase().endsWith('.zip')
    let extracted: string
    try {
      extracted = zip ? await tc.extractZip(archive) : await tc.extractTar(archive)
    } catch (err) {
      throw new ActionError(`oras archive ${url} could not be extracted: ${describeError(err)}`)
    }
    const binary = path.join(extracted, binaryName)
    try {
      await access(binary)
    } catch {
      throw new ActionError(
        `oras archive ${url} holds no ${binaryName} at its root; is oras-url the oras release archive?`
      )
    }
    await chmod(binary, 0o755)
    const dir = await cacheDirOnce(extracted, 'oras', cacheVersion, os.arch())
    core.info(
      `oras ${inputs.version}: downloaded and sha256 verified in ${Date.now() - started} ms`
    )
    if (dir === undefined) return binary
    await rm(extracted, { recursive: true, force: true })
    return path.join(dir, binaryName)
  } finally {
    await rm(archive, { force: true })
  }
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
        `${checksumsUrl} lists no ${asset}: that oras release has no build for this runner (it has: ${[...sums.keys()].join(', ')})`
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

export async function orasVersion(binary: string): Promise<string> {
  const out = await exec.getExecOutput(binary, ['version'], {
    silent: true,
    ignoreReturnCode: true
  })
  const m = /^Version:\s*(\S+)/m.exec(out.stdout)
  if (out.exitCode !== 0 || !m) {
    throw new ActionError(
      `oras at ${binary} does not run (exit ${out.exitCode}): ${firstError(out.stderr || out.stdout)}`
    )
  }
  return m[1]!
}

export interface Registry {
  binary: string
  /** The temporary credentials file; never ~/.docker/config.json. */
  config: string
  image: ImageTarget
  plainHttp: boolean
}

function commonFlags(r: Registry): string[] {
  return ['--registry-config', r.config, ...(r.plainHttp ? ['--plain-http'] : [])]
}

/** The password goes on stdin: never on a command line, where any process could read it. */
export async function login(r: Registry, username: string, password: string): Promise<void> {
  if (r.image.kind !== 'registry') return
  const args = ['login', r.image.registry, '-u', username, '--password-stdin', ...commonFlags(r)]
  const out = await exec.getExecOutput(r.binary, args, {
    input: Buffer.from(password),
    ignoreReturnCode: true,
    silent: true
  })
  if (out.exitCode !== 0) throw registryError(r.image, username, 'log in to', out.stderr)
  core.info(`logged in to ${r.image.registry} as ${username}`)
}

export interface PushRequest {
  /** Target references, `<repo>:<tag>`, all pointing at one manifest. */
  tags: string[]
  files: Array<{ name: string; mediaType: string }>
  cwd: string
  artifactType: string
  annotationFile: string
  /** Delays between attempts; their count bounds the retries. */
  backoffMs?: number[]
}

export interface PushResult {
  digest: string
  reference: string
  size: number
}

/** One `oras push` for every tag; a transient registry failure is tried again, a refusal is not. */
export async function push(r: Registry, username: string, req: PushRequest): Promise<PushResult> {
  const target = r.image.kind === 'registry' ? r.image.name : path.resolve(r.image.dir)
  const args = [
    'push',
    '--format',
    'json',
    ...commonFlags(r),
    ...(r.image.kind === 'oci-layout' ? ['--oci-layout'] : []),
    '--artifact-type',
    req.artifactType,
    '--annotation-file',
    req.annotationFile,
    `${target}:${req.tags.join(',')}`,
    ...req.files.map(f => `${f.name}:${f.mediaType}`)
  ]
  const backoff = req.backoffMs ?? [2000, 5000]
  for (let attempt = 1; ; attempt++) {
    const out = await exec.getExecOutput(r.binary, args, {
      cwd: req.cwd,
      ignoreReturnCode: true,
      silent: true
    })
    for (const line of out.stderr.split('\n')) if (line.trim() !== '') core.info(`oras: ${line}`)
    if (out.exitCode === 0) return parsePushOutput(out.stdout)
    const delay = backoff[attempt - 1]
    if (delay === undefined || !isTransient(out.stderr)) {
      throw registryError(r.image, username, 'push to', out.stderr, attempt)
    }
    core.warning(
      `oras push failed (${firstError(out.stderr)}); attempt ${attempt + 1} in ${delay / 1000} s`
    )
    await new Promise(resolve => setTimeout(resolve, delay))
  }
}

// Besides server failures and dropped connections: a registry racing two uploads of one blob
// (parallel matrix jobs push the same empty config and shared layers) may lose it and answer
// "blob unknown" or "digest invalid"; a second push finds the blob there and succeeds.
const TRANSIENT =
  /blob unknown|digest invalid|status code (5\d\d|429)|\b(50[0-4]|429) (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Too Many Requests)|connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|i\/o timeout|TLS handshake timeout/i

export function isTransient(stderr: string): boolean {
  return TRANSIENT.test(stderr)
}

export function parsePushOutput(stdout: string): PushResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    parsed = undefined
  }
  const o = parsed as { digest?: unknown; reference?: unknown; size?: unknown } | undefined
  if (
    !o ||
    typeof o.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(o.digest) ||
    typeof o.reference !== 'string'
  ) {
    throw new ActionError(
      `oras push printed no JSON result with a digest (got ${JSON.stringify(stdout.trim().slice(0, 120))}); the push state is unknown, check the registry and run again`
    )
  }
  return { digest: o.digest, reference: o.reference, size: typeof o.size === 'number' ? o.size : 0 }
}

function firstError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')
  return (lines.find(l => l.startsWith('Error')) ?? lines[0] ?? 'no error output').replace(
    /^Error:\s*/,
    ''
  )
}

/** Turns oras's error text into what the workflow author has to do about it. */
export function registryError(
  image: ImageTarget,
  username: string,
  action: 'log in to' | 'push to',
  stderr: string,
  attempts = 1
): ActionError {
  const detail = firstError(stderr)
  const after = attempts > 1 ? ` after ${attempts} attempts` : ''
  if (image.kind === 'oci-layout')
    return new ActionError(`oras could not ${action} ${image.dir}${after}: ${detail}`)
  const where = image.registry
  const ghcr = where === 'ghcr.io'
  if (/credential not found/i.test(stderr)) {
    return new ActionError(
      `${where} requires credentials to ${action.replace(/ to$/, '')} ${image.name} and password is empty: set username and password${ghcr ? ' (password: ${{ secrets.GITHUB_TOKEN }})' : ''}`
    )
  }
  if (/\b401\b|unauthorized/i.test(stderr)) {
    return new ActionError(
      `${where} rejected the credentials of ${JSON.stringify(username)} (401 unauthorized) on ${action} ${image.name}: check username and password${ghcr ? " (GITHUB_TOKEN works for the repository's own packages)" : ''}`
    )
  }
  if (/\b403\b|denied|forbidden/i.test(stderr)) {
    return new ActionError(
      `${where} denied ${action} ${image.name} (403): ${ghcr ? 'the workflow needs `permissions: packages: write`, and the package must grant this repository write access' : 'the credentials lack push rights on that repository'}; ${detail}`
    )
  }
  return new ActionError(`could not ${action} ${image.name}${after}: ${detail}`)
}
