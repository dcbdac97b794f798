import * as semver from 'semver'
import { ActionError } from '../util/errors.js'
import { checkCreated, CREATED_ANNOTATION } from './created.js'
import { checkImage, type ImageTarget } from './image.js'
import { parseAnnotations, parseExtraFilePatterns, parseTagList } from './lists.js'
import { RFC3339_FORM, isOrasRfc3339 } from './rfc3339.js'
import { checkHttpUrl, parseDownloadUrl, type DownloadUrl } from './urls.js'

export const DEFAULT_ORAS_VERSION = '1.3.4'
/** `manifest index create` (format: image) came in 1.3.0; `--format json` in 1.2.0. */
export const MINIMUM_ORAS_VERSION = '1.3.0'
const DEFAULT_ARTIFACT_TYPE = 'application/vnd.tinkerbell.hook.os.v1+tar'
export const DEFAULT_HOOK_REPOSITORY = 'tinkerbell/hook'
export const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 900
// Node timers hold a signed 32-bit count of milliseconds; a longer delay fires at once.
const MAX_DOWNLOAD_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000)

export interface OrasInputs {
  version: string
  /** Both set, or both undefined. */
  url?: string
  checksum?: string
}

export interface Inputs {
  /** `latest`, `newest` or a `v`-prefixed semver tag. */
  hookVersion: string
  /** Empty: list mode. */
  variant: string
  hookRepository: string
  /** Without credentials, query or fragment. */
  downloadUrl: string
  /** `Basic …` from `user:password@` in download-url, sent with every release download. */
  downloadAuthorization?: string
  bundleDir: string
  push: boolean
  /** Read the planned tags first; build and push only what is not published yet. */
  skipPublished: boolean
  /** Undefined only when nothing will be pushed. */
  image?: ImageTarget
  extraTags: string[]
  latest: boolean
  /** Add the variant's hook-<id>-efi-initrd.iso images to the bundle. */
  iso: boolean
  username: string
  password: string
  plainHttp: boolean
  annotations: Record<string, string>
  artifactType: string
  /** What is pushed: an OCI artifact (oras pull) or an OCI image index (mountable). */
  format: BundleFormat
  /** RFC 3339; undefined: derive from the archives. */
  created?: string
  oras: OrasInputs
  githubToken: string
  downloadTimeoutMs: number
  /** extra-files: glob patterns, matched in the workspace before any download. */
  extraFiles: string[]
  /** Every secret value an input carries, to mask before anything prints. */
  secrets: string[]
}

export const BUNDLE_FORMATS = ['artifact', 'image'] as const
export type BundleFormat = (typeof BUNDLE_FORMATS)[number]

export type InputReader = (name: string) => string

/** Reads one input, trimmed; `fallback` when it is empty. */
type Get = (name: string, fallback?: string) => string

/**
 * Reads and checks every input before anything touches the network, so that a typo fails in
 * milliseconds with one line instead of after a download. The runner fills defaults from
 * action.yml; the same defaults are applied here for runs without a runner (local script, tests).
 * Each group is checked by the function named after it, in this order (the first error wins).
 */
export function parseInputs(read: InputReader, env: NodeJS.ProcessEnv): Inputs {
  const get: Get = (name, fallback = '') => {
    const value = read(name).trim()
    return value === '' ? fallback : value
  }
  const release = checkRelease(get)
  const switches = checkSwitches(get)
  const image = checkImage(get('image'), env, switches.push && release.variant !== '')
  const oras = checkOras(get)
  const downloadTimeoutMs = checkDownloadTimeout(get)
  const { password, githubToken, ...format } = checkFormat(get, read, env)
  const { download, ...releaseInputs } = release
  return {
    ...releaseInputs,
    downloadUrl: download.url,
    ...(download.authorization === undefined
      ? {}
      : { downloadAuthorization: download.authorization }),
    bundleDir: get('bundle-dir'),
    push: switches.push,
    skipPublished: switches.skipPublished,
    image,
    extraTags: parseTagList(get('tags')),
    latest: switches.latest,
    iso: switches.iso,
    username: get('username', env['GITHUB_ACTOR'] ?? ''),
    password,
    plainHttp: switches.plainHttp,
    annotations: format.annotations,
    artifactType: format.artifactType,
    format: format.format,
    created: format.created,
    oras,
    githubToken,
    downloadTimeoutMs,
    extraFiles: parseExtraFilePatterns(get('extra-files')),
    secrets: [password, githubToken, ...download.secrets].filter(s => s !== '')
  }
}

/** hook-version, variant, hook-repository and download-url: which release, from where. */
function checkRelease(get: Get): {
  hookVersion: string
  variant: string
  hookRepository: string
  download: DownloadUrl
} {
  const hookVersion = get('hook-version')
  if (hookVersion === '') {
    throw new ActionError(
      'hook-version is required: a release tag such as v0.11.1, latest or newest'
    )
  }
  if (!['latest', 'newest'].includes(hookVersion) && !isReleaseTag(hookVersion)) {
    throw new ActionError(
      `hook-version ${JSON.stringify(hookVersion)} is not a hook release: use a tag such as v0.11.1, latest (the rolling build) or newest (the highest vX.Y.Z tag)`
    )
  }

  const variant = get('variant')
  if (variant !== '' && !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(variant)) {
    throw new ActionError(
      `variant ${JSON.stringify(variant)} is not a variant name: use lower-case letters, digits and "-", e.g. lts, armbian-bcm2711, lts-all (leave it empty to list the variants)`
    )
  }

  const hookRepository = get('hook-repository', DEFAULT_HOOK_REPOSITORY)
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(hookRepository)) {
    throw new ActionError(
      `hook-repository ${JSON.stringify(hookRepository)} is not owner/name, e.g. tinkerbell/hook`
    )
  }

  const download = parseDownloadUrl(
    get('download-url', `https://github.com/${hookRepository}/releases/download`)
  )
  return { hookVersion, variant, hookRepository, download }
}

/** The true/false inputs: push, latest, iso, skip-published, plain-http. */
function checkSwitches(get: Get): {
  push: boolean
  latest: boolean
  iso: boolean
  skipPublished: boolean
  plainHttp: boolean
} {
  const push = parseBoolean('push', get('push', 'true'))
  const latest = parseBoolean('latest', get('latest', 'false'))
  const iso = parseBoolean('iso', get('iso', 'false'))
  const skipPublished = parseBoolean('skip-published', get('skip-published', 'true'))
  const plainHttp = parseBoolean('plain-http', get('plain-http', 'false'))
  return { push, latest, iso, skipPublished, plainHttp }
}

/** oras-version, oras-url and oras-checksum. */
function checkOras(get: Get): OrasInputs {
  const orasVersion = get('oras-version', DEFAULT_ORAS_VERSION).replace(/^v/, '')
  if (semver.valid(orasVersion) === null || semver.clean(orasVersion) !== orasVersion) {
    throw new ActionError(
      `oras-version ${JSON.stringify(orasVersion)} is not a release version such as ${DEFAULT_ORAS_VERSION}`
    )
  }
  if (semver.lt(orasVersion, MINIMUM_ORAS_VERSION)) {
    throw new ActionError(
      `oras-version ${orasVersion} is too old: the action needs ${MINIMUM_ORAS_VERSION} or newer (\`manifest index create\` came in 1.3.0, \`--format json\` in 1.2.0); use ${DEFAULT_ORAS_VERSION}, the default`
    )
  }
  const orasUrl = get('oras-url')
  const orasChecksum = get('oras-checksum').toLowerCase()
  if ((orasUrl === '') !== (orasChecksum === '')) {
    throw new ActionError(
      'oras-url and oras-checksum go together: give both (the archive URL and its sha256) or neither'
    )
  }
  if (orasUrl !== '') checkHttpUrl('oras-url', orasUrl)
  if (orasChecksum !== '' && !/^[0-9a-f]{64}$/.test(orasChecksum)) {
    throw new ActionError('oras-checksum must be the 64 hex digits of the archive sha256')
  }
  return orasUrl === ''
    ? { version: orasVersion }
    : { version: orasVersion, url: orasUrl, checksum: orasChecksum }
}

/** download-timeout, in milliseconds. */
function checkDownloadTimeout(get: Get): number {
  const timeout = get('download-timeout', String(DEFAULT_DOWNLOAD_TIMEOUT_SECONDS))
  if (!/^\d+$/.test(timeout)) {
    throw new ActionError(
      `download-timeout ${JSON.stringify(timeout)} is not a whole number of seconds (0: no limit)`
    )
  }
  if (Number(timeout) > MAX_DOWNLOAD_TIMEOUT_SECONDS) {
    throw new ActionError(
      `download-timeout ${timeout} is more than ${MAX_DOWNLOAD_TIMEOUT_SECONDS} seconds (about 24 days), the longest a timer can wait: give fewer seconds, or 0 for no limit`
    )
  }
  return Number(timeout) * 1000
}

/**
 * What shapes the pushed bytes: artifact-type, annotations, format and created (with
 * SOURCE_DATE_EPOCH); password and github-token are read on the way, unchecked.
 */
function checkFormat(
  get: Get,
  read: InputReader,
  env: NodeJS.ProcessEnv
): {
  artifactType: string
  annotations: Record<string, string>
  format: BundleFormat
  created: string | undefined
  password: string
  githubToken: string
} {
  const artifactType = get('artifact-type', DEFAULT_ARTIFACT_TYPE)
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(artifactType)) {
    throw new ActionError(
      `artifact-type ${JSON.stringify(artifactType)} is not a media type such as ${DEFAULT_ARTIFACT_TYPE}`
    )
  }

  const annotations = parseAnnotations(get('annotations'))
  const createdAnnotation = annotations[CREATED_ANNOTATION]
  if (createdAnnotation !== undefined && !isOrasRfc3339(createdAnnotation)) {
    throw new ActionError(
      `annotations: ${CREATED_ANNOTATION} ${JSON.stringify(createdAnnotation)} is not an RFC 3339 time as oras reads it: ${RFC3339_FORM}`
    )
  }

  const password = read('password')
  const githubToken = get('github-token', env['GITHUB_TOKEN'] ?? '')

  const format = get('format', 'artifact')
  if (!(BUNDLE_FORMATS as readonly string[]).includes(format)) {
    throw new ActionError(
      `format ${JSON.stringify(format)} is not a bundle format: use artifact (an OCI artifact for oras pull) or image (an OCI image index that containerd and Kubernetes image volumes mount)`
    )
  }
  const created = checkCreated(
    get('created'),
    env['SOURCE_DATE_EPOCH'] ?? '',
    format,
    createdAnnotation
  )
  return {
    artifactType,
    annotations,
    format: format as BundleFormat,
    created,
    password,
    githubToken
  }
}

export function isReleaseTag(tag: string): boolean {
  return /^v\d/.test(tag) && semver.valid(tag.slice(1)) !== null && tag.length <= 64
}

export function parseBoolean(name: string, value: string): boolean {
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new ActionError(`${name} must be true or false, got ${JSON.stringify(value)}`)
}
