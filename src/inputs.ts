import * as semver from 'semver'
import { ActionError } from './errors.js'
import { parseImage, type ImageTarget } from './image.js'
import { parseAnnotations, parseTagList } from './publish.js'

export const DEFAULT_ORAS_VERSION = '1.3.2'
const DEFAULT_ARTIFACT_TYPE = 'application/vnd.tinkerbell.hook.os.v1+tar'
export const DEFAULT_HOOK_REPOSITORY = 'tinkerbell/hook'
export const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 900

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
  downloadUrl: string
  bundleDir: string
  push: boolean
  /** Undefined only when nothing will be pushed. */
  image?: ImageTarget
  extraTags: string[]
  latest: boolean
  username: string
  password: string
  plainHttp: boolean
  annotations: Record<string, string>
  artifactType: string
  /** RFC 3339; undefined: derive from the archives. */
  created?: string
  oras: OrasInputs
  githubToken: string
  downloadTimeoutMs: number
}

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

  const downloadUrl = get('download-url', `https://github.com/${hookRepository}/releases/download`)
  checkHttpUrl('download-url', downloadUrl)

  const push = parseBoolean('push', get('push', 'true'))
  const latest = parseBoolean('latest', get('latest', 'false'))
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

  const artifactType = get('artifact-type', DEFAULT_ARTIFACT_TYPE)
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(artifactType)) {
    throw new ActionError(
      `artifact-type ${JSON.stringify(artifactType)} is not a media type such as ${DEFAULT_ARTIFACT_TYPE}`
    )
  }

  return {
    hookVersion,
    variant,
    hookRepository,
    downloadUrl: downloadUrl.replace(/\/+$/, ''),
    bundleDir: get('bundle-dir'),
    push,
    image,
    extraTags: parseTagList(get('tags')),
    latest,
    username: get('username', env['GITHUB_ACTOR'] ?? ''),
    password: read('password'),
    plainHttp,
    annotations: parseAnnotations(get('annotations')),
    artifactType,
    created: parseCreated(get('created'), env['SOURCE_DATE_EPOCH'] ?? ''),
    oras:
      orasUrl === ''
        ? { version: orasVersion }
        : { version: orasVersion, url: orasUrl, checksum: orasChecksum },
    githubToken: get('github-token', env['GITHUB_TOKEN'] ?? ''),
    downloadTimeoutMs: Number(timeout) * 1000
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

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** An explicit `created` wins over SOURCE_DATE_EPOCH; both absent means derive from content. */
export function parseCreated(created: string, sourceDateEpoch: string): string | undefined {
  if (created !== '') {
    if (!RFC3339.test(created) || Number.isNaN(Date.parse(created))) {
      throw new ActionError(
        `created ${JSON.stringify(created)} is not an RFC 3339 time such as 2024-05-01T12:00:00Z`
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
    return rfc3339(new Date(Number(epoch) * 1000))
  }
  return undefined
}

/** Second precision in UTC, as oras writes `created` itself. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function checkHttpUrl(name: string, value: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ActionError(
      `${name} ${JSON.stringify(value)} is not a URL; expected http(s)://host/path`
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ActionError(`${name} ${JSON.stringify(value)} must be an http:// or https:// URL`)
  }
}
