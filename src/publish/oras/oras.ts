import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { access, chmod, readFile, rm, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import * as exec from '@actions/exec'
import * as tc from '@actions/tool-cache'
import { cacheDirOnce } from '../../archives/tool-cache.js'
import { displayUrl } from '../../util/display-url.js'
import { download } from '../../download/download.js'
import { ActionError, describeError } from '../../util/errors.js'
import { reference, type ImageTarget } from '../../inputs/image.js'
import type { OrasInputs } from '../../inputs/inputs.js'
import {
  ORAS_MIRROR_ENV,
  ORAS_RELEASES_URL,
  PINNED_SHA256,
  UnsupportedPlatformError,
  orasAsset,
  parseOrasChecksums
} from './releases.js'
import { runOras, type OrasOutput } from './process.js'

/** Written into the cached oras directory once its archive's sha256 was verified. */
interface OrasRecord {
  /** The sha256 the archive was verified against (pinned, given, or official checksums file). */
  archiveSha256: string
  binary: string
  binarySha256: string
}

const ORAS_RECORD = '.hook-oras.json'

/**
 * Installs oras through the tool cache. A cached copy is run only after its binary's sha256 is
 * proved to be the one recorded when its archive passed the expected sha256: any job on a
 * self-hosted runner can write the tool cache, and oras receives the registry password. The
 * archive is otherwise downloaded, checked (pinned, given, or from the release's checksums
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
  // Known before the cache is looked at: a hit is bound to it. Without pinned data for this
  // version that costs fetching the small checksums file on every run.
  const expected =
    inputs.checksum ??
    PINNED_SHA256[asset!.name] ??
    (await officialChecksum(asset!.checksumsUrl, asset!.name, timeoutMs))
  const what = `oras ${cacheVersion}`
  const cached = tc.find('oras', cacheVersion, os.arch())
  if (cached !== '') {
    const binary = path.join(cached, binaryName)
    const damage = await checkCachedOras(cached, binary, expected)
    if (damage === undefined) {
      core.info(`${what}: tool cache hit at ${cached}, binary sha256 re-verified, no download`)
      return binary
    }
    await evictOras(what, cached, damage)
  }

  const url = inputs.url ?? asset!.url
  const started = Date.now()
  const archive = await download(url, `oras ${inputs.version} archive`, timeoutMs)
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
    core.info(
      `oras ${inputs.version}: downloaded and sha256 verified in ${Date.now() - started} ms`
    )
    let dir: string | undefined
    try {
      dir = await cacheDirOnce(extracted, 'oras', cacheVersion, os.arch())
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
    return path.join(dir, binaryName)
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
  /**
   * A path in the run's private directory that is never written: oras reads no
   * ~/.docker/config.json through it, and with the credentials on stdin stores nothing there.
   */
  config: string
  image: ImageTarget
  plainHttp: boolean
  username: string
  /** Handed to oras on stdin by every call that talks to the registry; empty: anonymous. */
  password: string
}

/** Where a command finds its target, and the credentials that go with it (never `oras login`). */
function targetFlags(r: Registry): string[] {
  if (r.image.kind === 'oci-layout') return ['--oci-layout']
  const credentials =
    r.password === '' ? [] : [...(r.username !== '' ? ['-u', r.username] : []), '--password-stdin']
  return ['--registry-config', r.config, ...credentials, ...(r.plainHttp ? ['--plain-http'] : [])]
}

/** The repository part of a reference: the registry repository, or the layout directory. */
function targetName(r: Registry): string {
  return r.image.kind === 'registry' ? r.image.name : path.resolve(r.image.dir)
}

type Verb = 'push to' | 'read' | 'tag in'

/**
 * One oras command against the target; a transient registry failure is tried again after the
 * delays in `backoffMs`, a refusal is not. Returns the output of the successful attempt, or
 * `undefined` when `absent` recognises the failure as a normal answer.
 */
async function orasCall(
  r: Registry,
  verb: Verb,
  args: string[],
  opts: {
    cwd?: string
    backoffMs?: number[]
    absent?: (stderr: string) => boolean
    /** Sees every attempt's output, failed ones included. */
    onAttempt?: (out: OrasOutput) => void
  } = {}
): Promise<OrasOutput | undefined> {
  const backoff = opts.backoffMs ?? [2000, 5000]
  const stdin = r.image.kind === 'registry' && r.password !== '' ? r.password : undefined
  for (let attempt = 1; ; attempt++) {
    const out = await runOras(r.binary, args, { cwd: opts.cwd, stdin })
    opts.onAttempt?.(out)
    if (out.exitCode !== 0 && opts.absent?.(out.stderr)) return undefined
    for (const line of out.stderr.split('\n')) if (line.trim() !== '') core.info(`oras: ${line}`)
    if (out.exitCode === 0) return out
    const delay = backoff[attempt - 1]
    if (delay === undefined || !isTransient(out.stderr)) {
      throw registryError(r.image, r.username, verb, out.stderr, attempt, r.password === '')
    }
    const command = args.slice(0, args[0] === 'manifest' ? 2 : 1).join(' ')
    core.warning(
      `oras ${command} failed (${firstError(out.stderr)}); attempt ${attempt + 1} in ${delay / 1000} s`
    )
    await new Promise(resolve => setTimeout(resolve, delay))
  }
}

export interface PushRequest {
  /** Tags of the target, all pointing at one manifest; none: pushed by digest only. */
  tags: string[]
  files: Array<{ name: string; mediaType: string }>
  cwd: string
  /** The manifest is an image-spec 1.1 artifact of this type, with the empty config... */
  artifactType?: string
  /** ...or an image-spec 1.0 image with this image config file (no artifactType). */
  imageConfig?: string
  annotationFile: string
  /** Where oras writes the manifest it pushed (`--export-manifest`). */
  exportManifest?: string
  /** Delays between attempts; their count bounds the retries. */
  backoffMs?: number[]
}

export interface PushResult {
  digest: string
  reference: string
  size: number
}

const IMAGE_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json'

/** The target with every tag at once, or with none (a push by digest, no tag moves). */
function targetRef(r: Registry, tags: string[]): string {
  return tags.length === 0 ? targetName(r) : `${targetName(r)}:${tags.join(',')}`
}

/** One `oras push` for every tag. */
export async function push(r: Registry, req: PushRequest): Promise<PushResult> {
  // With --config and without --artifact-type, oras packs an image-spec 1.0 manifest.
  const kind =
    req.imageConfig !== undefined
      ? ['--config', `${req.imageConfig}:${IMAGE_CONFIG_MEDIA_TYPE}`]
      : ['--artifact-type', req.artifactType ?? '']
  const args = [
    'push',
    '--format',
    'json',
    ...targetFlags(r),
    ...kind,
    '--annotation-file',
    req.annotationFile,
    ...(req.exportManifest === undefined ? [] : ['--export-manifest', req.exportManifest]),
    targetRef(r, req.tags),
    ...req.files.map(f => `${f.name}:${f.mediaType}`)
  ]
  const out = await orasCall(r, 'push to', args, { cwd: req.cwd, backoffMs: req.backoffMs })
  return parsePushOutput(out!.stdout)
}

export interface IndexRequest {
  /** Every tag the index gets, at once. */
  tags: string[]
  /** Digests of manifests already in the repository; each entry's platform comes from its config. */
  manifests: string[]
  annotations: Record<string, string>
  backoffMs?: number[]
}

/** `oras manifest index create`: the index is pushed and tagged with every tag in one call. */
export async function createIndex(r: Registry, req: IndexRequest): Promise<string> {
  const args = [
    'manifest',
    'index',
    'create',
    ...targetFlags(r),
    targetRef(r, req.tags),
    ...req.manifests,
    ...Object.entries(req.annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`])
  ]
  const out = await orasCall(r, 'push to', args, { backoffMs: req.backoffMs })
  // The command has no JSON output: its text ends with "Digest: <digest>".
  const m = /^Digest: (sha256:[0-9a-f]{64})\s*$/m.exec(out!.stdout)
  if (!m) {
    throw new ActionError(
      `oras manifest index create printed no digest (got ${JSON.stringify(out!.stdout.trim().slice(-120))}); the push state is unknown, check the registry and run again`
    )
  }
  return m[1]!
}

/** What a tag points at, as read back from the target. */
export interface PublishedManifest {
  digest: string
  mediaType: string
  annotations: Record<string, string>
  /** An index's entries that name a platform: `os/architecture` → manifest digest. */
  platforms?: Record<string, string>
}

/**
 * Reads what `tag` points at (`oras manifest fetch --format json`); `undefined` only when
 * oras says the tag is not found. Any other failure (401, 5xx, the network) is an error after
 * the usual retries: a doubt must never read as "absent".
 */
export async function fetchManifest(
  r: Registry,
  tag: string,
  backoffMs?: number[]
): Promise<PublishedManifest | undefined> {
  if (r.image.kind === 'oci-layout' && !existsSync(path.join(targetName(r), 'index.json'))) {
    return undefined // a layout not made yet holds no tag
  }
  const args = [
    'manifest',
    'fetch',
    '--format',
    'json',
    ...targetFlags(r),
    `${targetName(r)}:${tag}`
  ]
  // A registry says `…: <repo>:<tag>: not found`; an OCI layout only `failed to fetch the
  // content of "<dir>:<tag>": not found` (oras-go's content/oci falls back to resolving a blob,
  // whose not-found names nothing).
  const ref = `${targetName(r)}:${tag}`
  const notFound = new RegExp(
    `(?:${escapeRegExp(tag)}|${escapeRegExp(JSON.stringify(ref))}): not found\\s*$`,
    'm'
  )
  const out = await orasCall(r, 'read', args, { backoffMs, absent: e => notFound.test(e) })
  if (out === undefined) return undefined
  return parseFetchOutput(out.stdout, reference(r.image, tag))
}

export function parseFetchOutput(stdout: string, ref: string): PublishedManifest {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    parsed = undefined
  }
  const o = parsed as
    | {
        digest?: unknown
        mediaType?: unknown
        content?: { annotations?: unknown; manifests?: unknown }
      }
    | undefined
  if (
    !o ||
    typeof o.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(o.digest) ||
    typeof o.content !== 'object' ||
    o.content === null
  ) {
    throw new ActionError(
      `oras manifest fetch printed no JSON manifest for ${ref} (got ${JSON.stringify(stdout.trim().slice(0, 120))}); cannot tell what is published, run again`
    )
  }
  const annotations: Record<string, string> = {}
  const raw = o.content.annotations
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') annotations[k] = v
  }
  let platforms: Record<string, string> | undefined
  if (Array.isArray(o.content.manifests)) {
    for (const m of o.content.manifests as Array<{
      digest?: unknown
      platform?: { os?: unknown; architecture?: unknown }
    }>) {
      if (typeof m?.digest !== 'string' || !m.platform) continue
      platforms ??= {}
      platforms[`${String(m.platform.os)}/${String(m.platform.architecture)}`] = m.digest
    }
  }
  return {
    digest: o.digest,
    mediaType: typeof o.mediaType === 'string' ? o.mediaType : '',
    annotations,
    ...(platforms ? { platforms } : {})
  }
}

/** Points `tags` at the manifest `digest` already in the target (`oras tag`): no blob moves. */
export async function tagManifest(
  r: Registry,
  digest: string,
  tags: string[],
  backoffMs?: number[]
): Promise<void> {
  await moveTags(r, digest, tags, { backoffMs })
}

/** Some tags moved, others did not: which, exactly, for the error and the outputs. */
export class TagsNotMovedError extends ActionError {
  constructor(
    message: string,
    readonly digest: string,
    /** Tags that now name `digest`, moved by this run. */
    readonly moved: string[],
    /** Tags left as they were: the refused one first, then those not tried. */
    readonly notMoved: string[],
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'TagsNotMovedError'
  }
}

/**
 * Points `tags` at `digest`, one after the other in the given order (`oras tag --concurrency
 * 1`: oras stops at the first refusal and prints `Tagged <tag>` for each that moved). On a
 * failure, throws a TagsNotMovedError naming the tags that moved (over every attempt) and
 * those that did not. `pushed`: this run has just pushed `digest` to the target, so a refusal
 * now is not about the right to push.
 */
export async function moveTags(
  r: Registry,
  digest: string,
  tags: string[],
  opts: { pushed?: boolean; backoffMs?: number[] } = {}
): Promise<void> {
  if (tags.length === 0) return
  const tagged = new Set<string>()
  let stderr = ''
  let attempts = 0
  const args = [
    'tag',
    '--concurrency',
    '1',
    ...targetFlags(r),
    `${targetName(r)}@${digest}`,
    ...tags
  ]
  try {
    await orasCall(r, 'tag in', args, {
      backoffMs: opts.backoffMs,
      onAttempt: out => {
        attempts++
        stderr = out.stderr
        for (const m of out.stdout.matchAll(/^Tagged (\S+)\s*$/gm)) tagged.add(m[1]!)
      }
    })
  } catch (err) {
    const moved = tags.filter(t => tagged.has(t))
    const notMoved = tags.filter(t => !tagged.has(t))
    if (!(err instanceof ActionError) || notMoved.length === 0) throw err
    const why = tagFailure(r, { digest, moved, notMoved, stderr, attempts, pushed: opts.pushed })
    throw new TagsNotMovedError(why, digest, moved, notMoved, { cause: err })
  }
}

/**
 * Why `notMoved[0]` did not move, with the lists. A registry that answers with an error code
 * or a 4xx status (not 401, not a transient failure) refused that tag: after this run wrote to the repository
 * with the same credentials (pushed the bundle, moved other tags), that is the tag's own rule
 * (a tag immutability rule, a protected tag), whatever code it comes with (Docker Hub: 403
 * denied; ECR: 400 tag invalid; Harbor: 412 precondition).
 */
function tagFailure(
  r: Registry,
  f: {
    digest: string
    moved: string[]
    notMoved: string[]
    stderr: string
    attempts: number
    pushed?: boolean
  }
): string {
  const lists = `moved to ${f.digest}: ${f.moved.length > 0 ? f.moved.join(', ') : 'no tag'}; not moved: ${f.notMoved.join(', ')}`
  const refusal =
    r.image.kind === 'registry' &&
    /Error response from registry:|response status code 4\d\d/i.test(f.stderr) &&
    !/\b401\b|unauthorized|credential not found/i.test(f.stderr) &&
    !isTransient(f.stderr)
  if (r.image.kind !== 'registry' || !refusal)
    return `${registryError(r.image, r.username, 'tag in', f.stderr, f.attempts).message}; ${lists}`
  const { registry: where, name } = r.image
  const tag = f.notMoved[0]!
  const detail = firstError(f.stderr)
  const wrote = [
    ...(f.pushed ? [`pushed ${f.digest}`] : []),
    ...(f.moved.length > 0 ? [`moved ${f.moved.join(', ')}`] : [])
  ].join(' and ')
  if (wrote !== '')
    return `${where} refused tag ${tag} in ${name}, though this run's credentials had just ${wrote}: the tag is likely immutable or protected there (a tag immutability or protection rule), not a missing push right; ${lists}; let the tag move or leave it out of tags, then run again; ${detail}`
  if (/\b403\b|denied|forbidden/i.test(f.stderr)) {
    const rights =
      where === 'ghcr.io'
        ? 'the workflow needs `permissions: packages: write` and the package must grant this repository write access'
        : 'the credentials lack push rights on that repository'
    return `${where} denied moving ${tag} in ${name} (403): ${rights}, or the tag is immutable or protected there; ${lists}; ${detail}`
  }
  return `${where} refused tag ${tag} in ${name}: the tag may be immutable or protected there; ${lists}; ${detail}`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// Besides server failures and dropped connections: a registry racing two uploads of one blob
// (parallel matrix jobs push the same empty config and shared layers) may lose it and answer
// "blob unknown" or "digest invalid"; a second push finds the blob there and succeeds.
const TRANSIENT =
  /blob unknown|digest invalid|status code (5\d\d|429)|\b(50[0-4]|429) (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Too Many Requests)|connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|i\/o timeout|TLS handshake timeout/i
// An error response with a JSON body is printed by its error codes alone, without the status
// (`Error response from registry: unknown: …`): the codes a server failure or a rate limit
// carries. Anchored, so that "manifest unknown: …" (a refusal) is not one of them.
const TRANSIENT_CODE = /(?:^Error: |registry: |; )(?:unknown|unavailable|toomanyrequests):/im

export function isTransient(stderr: string): boolean {
  return TRANSIENT.test(stderr) || TRANSIENT_CODE.test(stderr)
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

// How each failing command is named in an error line.
const DOING: Record<Verb, string> = {
  'push to': 'push to',
  read: 'read of',
  'tag in': 'tagging in'
}

/** Turns oras's error text into what the workflow author has to do about it. */
export function registryError(
  image: ImageTarget,
  username: string,
  action: Verb,
  stderr: string,
  attempts = 1,
  anonymous = false
): ActionError {
  const detail = firstError(stderr)
  const after = attempts > 1 ? ` after ${attempts} attempts` : ''
  if (image.kind === 'oci-layout')
    return new ActionError(`oras could not ${action} ${image.dir}${after}: ${detail}`)
  const where = image.registry
  const ghcr = where === 'ghcr.io'
  // Without a password oras asks a Bearer-token registry (GHCR) for an anonymous token, and the
  // refusal is a plain 401 or 403: nobody's credentials were rejected. A 401 asks for them; a 403
  // may also be a rule that credentials would not lift, so it is named as what it is.
  const setCredentials = `set username and password${ghcr ? ' (password: ${{ secrets.GITHUB_TOKEN }}, with `permissions: packages: write`)' : ''}`
  if (/credential not found/i.test(stderr) || (anonymous && /\b401\b|unauthorized/i.test(stderr))) {
    return new ActionError(
      `${where} requires credentials to ${action.replace(/ (to|in)$/, '')} ${image.name} and none were given (password is empty): ${setCredentials}; ${detail}`
    )
  }
  if (anonymous && /\b403\b|denied|forbidden/i.test(stderr)) {
    return new ActionError(
      `${where} denied ${DOING[action]} ${image.name} (403) to a client without credentials (password is empty): ${setCredentials}; ${detail}`
    )
  }
  if (/\b401\b|unauthorized/i.test(stderr)) {
    return new ActionError(
      `${where} rejected the credentials of ${JSON.stringify(username)} (401 unauthorized) on ${DOING[action]} ${image.name}: check username and password${ghcr ? " (GITHUB_TOKEN works for the repository's own packages)" : ''}`
    )
  }
  if (/\b403\b|denied|forbidden/i.test(stderr)) {
    const rights = action === 'read' ? 'pull' : 'push'
    return new ActionError(
      `${where} denied ${DOING[action]} ${image.name} (403): ${ghcr ? 'the workflow needs `permissions: packages: write`, and the package must grant this repository write access' : `the credentials lack ${rights} rights on that repository`}; ${detail}`
    )
  }
  return new ActionError(`could not ${action} ${image.name}${after}: ${detail}`)
}
