import * as semver from 'semver'
import { displayUrl } from '../util/display-url.js'
import { ActionError } from '../util/errors.js'
import { parseExtraFilePatterns } from '../bundle/extra-files.js'
import { parseImage, type ImageTarget } from './image.js'
import { parseAnnotations, parseTagList } from '../publish/plan.js'
import { RFC3339_FORM, formatRfc3339, isOrasRfc3339, isStrictRfc3339 } from './rfc3339.js'

export const DEFAULT_ORAS_VERSION = '1.3.4'
/** `manifest index create` (format: image) came in 1.3.0; `--format json` in 1.2.0. */
export const MINIMUM_ORAS_VERSION = '1.3.0'
const DEFAULT_ARTIFACT_TYPE = 'application/vnd.tinkerbell.hook.os.v1+tar'
export const DEFAULT_HOOK_REPOSITORY = 'tinkerbell/hook'
export const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 900
// Node timers hold a signed 32-bit count of milliseconds; a longer delay fires at once.
const MAX_DOWNLOAD_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000)
// 9999-12-31T23:59:59Z: RFC 3339 writes four-digit years only.
const MAX_SOURCE_DATE_EPOCH = 253402300799
const CREATED_ANNOTATION = 'org.opencontainers.image.created'

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

/**
 * Reads and checks every input before anything touches the network, so that a typo fails in
 * milliseconds with one line instead of after a download. The runner fills defaults from
 * action.yml; the same defaults are applied here for runs without a runner (local script, tests).
 */
export function parseInputs(read: InputReader, env: NodeJS.ProcessEnv): Inputs {
  const get = (name: string, fallback = ''): string => {
    const value = read(name).trim()
    return value === '' ? fallback : value
  }

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

  const push = parseBoolean('push', get('push', 'true'))
  const latest = parseBoolean('latest', get('latest', 'false'))
  const iso = parseBoolean('iso', get('iso', 'false'))
  const skipPublished = parseBoolean('skip-published', get('skip-published', 'true'))
  const plainHttp = parseBoolean('plain-http', get('plain-http', 'false'))

  const willPush = push && variant !== ''
  let image: ImageTarget | undefined
  const imageInput = get('image')
  if (imageInput !== '') {
    image = parseImage(imageInput)
  } else if (willPush) {
    const repository = env['GITHUB_REPOSITORY'] ?? ''
    if (repository === '') {
      throw new ActionError(
        'image is empty and GITHUB_REPOSITORY is not set: set image to a repository such as ghcr.io/owner/hook-images or oci-layout:<dir>'
      )
    }
    // GHCR refuses upper case, and forks are often named with it.
    image = parseImage(`ghcr.io/${repository.toLowerCase()}`)
  }

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

  const created = parseCreated(get('created'), env['SOURCE_DATE_EPOCH'] ?? '')
  if (format === 'image') {
    // The image config carries created too, and containerd reads it more strictly than oras.
    for (const [what, value] of [
      ['created', created],
      [`annotations: ${CREATED_ANNOTATION}`, createdAnnotation]
    ] as const) {
      if (value !== undefined && !isStrictRfc3339(value)) {
        throw new ActionError(
          `${what} ${JSON.stringify(value)} is read by oras but not by containerd, which reads the image config's created as strict RFC 3339 (format: image): use a two-digit hour, "." before a fraction and an offset within ±23:59, e.g. 2024-05-01T12:00:00Z`
        )
      }
    }
  }

  return {
    hookVersion,
    variant,
    hookRepository,
    downloadUrl: download.url,
    ...(download.authorization === undefined
      ? {}
      : { downloadAuthorization: download.authorization }),
    bundleDir: get('bundle-dir'),
    push,
    skipPublished,
    image,
    extraTags: parseTagList(get('tags')),
    latest,
    iso,
    username: get('username', env['GITHUB_ACTOR'] ?? ''),
    password,
    plainHttp,
    annotations,
    artifactType,
    format: format as BundleFormat,
    created,
    oras:
      orasUrl === ''
        ? { version: orasVersion }
        : { version: orasVersion, url: orasUrl, checksum: orasChecksum },
    githubToken,
    downloadTimeoutMs: Number(timeout) * 1000,
    extraFiles: parseExtraFilePatterns(get('extra-files')),
    secrets: [password, githubToken, ...download.secrets].filter(s => s !== '')
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

/** An explicit `created` wins over SOURCE_DATE_EPOCH; both absent means derive from content. */
export function parseCreated(created: string, sourceDateEpoch: string): string | undefined {
  if (created !== '') {
    if (!isOrasRfc3339(created)) {
      throw new ActionError(
        `created ${JSON.stringify(created)} is not an RFC 3339 time as oras reads it: ${RFC3339_FORM}`
      )
    }
    return created
  }
  const epoch = sourceDateEpoch.trim()
  if (epoch !== '') {
    if (!/^\d+$/.test(epoch)) {
      throw new ActionError(
        `SOURCE_DATE_EPOCH ${JSON.stringify(epoch)} is not a whole number of seconds since 1970`
      )
    }
    if (Number(epoch) > MAX_SOURCE_DATE_EPOCH) {
      throw new ActionError(
        `SOURCE_DATE_EPOCH ${epoch} is after 9999-12-31T23:59:59Z (${MAX_SOURCE_DATE_EPOCH}), the last time RFC 3339 can write: give a smaller number of seconds since 1970`
      )
    }
    return rfc3339(new Date(Number(epoch) * 1000))
  }
  return undefined
}

/**
 * `created` derived from the newest file time inside the archives, second precision in UTC as
 * oras writes it. A time RFC 3339 cannot write (an archive entry dated past 9999, or a tar time
 * field JavaScript cannot hold) is refused by name instead of a bare "Invalid time value".
 */
export function rfc3339(date: Date): string {
  const text = formatRfc3339(date.getTime())
  if (text === undefined) {
    const when = Number.isNaN(date.getTime())
      ? 'not a valid time'
      : `${date.getTime() / 1000} s since 1970`
    throw new ActionError(
      `the newest file time inside the archives (${when}) is outside the years 0000 to 9999 that RFC 3339 can write, so created cannot be derived from it: set created (e.g. 2024-05-01T12:00:00Z) or SOURCE_DATE_EPOCH`
    )
  }
  return text
}

interface DownloadUrl {
  url: string
  authorization?: string
  secrets: string[]
}

/**
 * download-url is a base that asset paths are appended to, so a query or fragment would end up
 * in the middle of every URL. Credentials in it are moved into an Authorization header, so that
 * no URL that is printed, or kept in an error, carries them. Refusals show the URL as displayUrl
 * does: without its user info, query and fragment, which may hold a secret (`?token=…`).
 */
function parseDownloadUrl(value: string): DownloadUrl {
  const url = checkHttpUrl('download-url', value)
  for (const [mark, what] of [
    ['?', 'a query string'],
    ['#', 'a fragment']
  ] as const) {
    if (value.includes(mark)) {
      throw new ActionError(
        `download-url ${JSON.stringify(displayUrl(value))} has ${what} (not shown): assets are fetched from <download-url>/<tag>/<asset>, so give a base URL without "?" or "#"`
      )
    }
  }
  if (url.username === '' && url.password === '') {
    return { url: value.replace(/\/+$/, ''), secrets: [] }
  }
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  // Masked as written in the URL and as decoded: either form could be printed.
  const written = [url.username, url.password]
  const username = decode(url.username)
  const password = decode(url.password)
  const basic = Buffer.from(`${username}:${password}`).toString('base64')
  url.username = ''
  url.password = ''
  return {
    url: url.href.replace(/\/+$/, ''),
    authorization: `Basic ${basic}`,
    secrets: [username, password, ...written, basic]
  }
}

function checkHttpUrl(name: string, value: string): URL {
  const shown = JSON.stringify(displayUrl(value))
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ActionError(`${name} ${shown} is not a URL; expected http(s)://host/path`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ActionError(`${name} ${shown} must be an http:// or https:// URL`)
  }
  return url
}
