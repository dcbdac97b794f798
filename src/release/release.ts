import * as core from '@actions/core'
import { GitHub } from '@actions/github/lib/utils'
import * as semver from 'semver'
import { parseChecksums } from './checksums.js'
import { fetchText } from '../download/download.js'
import type { DownloadOptions } from '../download/fetch-body.js'
import { displayUrl } from '../util/display-url.js'
import { ActionError, describeError } from '../util/errors.js'
import { isReleaseTag } from '../inputs/inputs.js'
import { releaseIsos, type ReleaseIso } from './isos.js'
import {
  planCatalog,
  releaseArchives,
  type ReleaseArchive,
  type VariantDefinition
} from './catalog.js'

const CHECKSUM_ASSET = 'checksum.txt'
/** Hook's checksum.txt is a few KiB (one line per asset): anything past this is not one. */
const CHECKSUM_MAX_BYTES = 1 << 20

/** What a release offers, read from its checksum.txt alone. */
export interface Release {
  tag: string
  repository: string
  /** `<download-url>/<tag>`: every asset lives below it. */
  baseUrl: string
  archives: ReleaseArchive[]
  /** The `hook-<id>-efi-initrd.iso` images it offers. */
  isos: ReleaseIso[]
  variants: VariantDefinition[]
}

export function assetUrl(release: Pick<Release, 'baseUrl'>, asset: string): string {
  return `${release.baseUrl}/${asset}`
}

export async function fetchRelease(
  tag: string,
  repository: string,
  downloadUrl: string,
  timeoutMs: number,
  authorization?: string
): Promise<Release> {
  const baseUrl = `${downloadUrl}/${encodeURIComponent(tag)}`
  const url = `${baseUrl}/${CHECKSUM_ASSET}`
  const opts: DownloadOptions & { maxBytes: number } = {
    what: `${CHECKSUM_ASSET} of ${repository} ${tag}`,
    timeoutMs,
    maxBytes: CHECKSUM_MAX_BYTES
  }
  if (authorization !== undefined) opts.authorization = authorization
  const text = await fetchText(url, opts)
  const source = `${CHECKSUM_ASSET} of ${repository} ${tag} (${displayUrl(url)})`
  const checksums = parseChecksums(text, source)
  const archives = releaseArchives(checksums, source)
  const { variants, unnamed } = planCatalog(archives.map(a => a.id))
  for (const note of unnamed) core.warning(note)
  return { tag, repository, baseUrl, archives, isos: releaseIsos(checksums), variants }
}

/**
 * `newest` is the highest vX.Y.Z tag. Hook publishes every release as a prerelease, so GitHub's
 * "latest release" endpoint never finds one: list them all and compare tags instead.
 */
export async function resolveNewest(repository: string, token: string): Promise<string> {
  const [owner, repo] = repository.split('/') as [string, string]
  // An empty token must mean anonymous, not an "Authorization: token " header.
  const baseUrl = process.env['GITHUB_API_URL'] || 'https://api.github.com'
  const octokit = new GitHub(token === '' ? { baseUrl } : { baseUrl, auth: token })
  let releases: Array<{ tag_name: string; draft: boolean }>
  try {
    releases = await octokit.paginate(octokit.rest.repos.listReleases, {
      owner,
      repo,
      per_page: 100
    })
  } catch (err) {
    throw explainApiError(err, repository, token !== '')
  }
  // A semver pre-release tag (v0.12.0-rc.1) is not a release to publish as the newest.
  const tags = releases
    .filter(
      r => !r.draft && isReleaseTag(r.tag_name) && semver.prerelease(r.tag_name.slice(1)) === null
    )
    .map(r => r.tag_name)
    .sort((a, b) => semver.rcompare(a.slice(1), b.slice(1)))
  core.debug(`releases of ${repository}: ${tags.join(', ')}`)
  const newest = tags[0]
  if (newest === undefined) {
    throw new ActionError(
      `${repository} has no published vX.Y.Z release (${releases.length} releases listed); use hook-version latest or a tag`
    )
  }
  return newest
}

function explainApiError(err: unknown, repository: string, authenticated: boolean): ActionError {
  const e = err as { status?: number; response?: { headers?: Record<string, string | undefined> } }
  const headers = e.response?.headers ?? {}
  const where = `listing the releases of ${repository} through the GitHub API`
  if (e.status === 401) {
    return new ActionError(
      `${where} failed: HTTP 401, github-token was rejected; pass a valid token or leave it empty`
    )
  }
  if (e.status === 404) {
    return new ActionError(
      `${where} failed: HTTP 404, no such repository (check hook-repository and GITHUB_API_URL)`
    )
  }
  if (
    (e.status === 403 || e.status === 429) &&
    (headers['x-ratelimit-remaining'] === '0' || e.status === 429)
  ) {
    const reset = Number(headers['x-ratelimit-reset'])
    const when =
      Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : ''
    return new ActionError(
      `${where} failed: API rate limit exceeded${when}; ${authenticated ? 'wait, or use a token with a higher limit' : 'pass github-token (the default ${{ github.token }} works)'}`
    )
  }
  if (e.status !== undefined) {
    return new ActionError(`${where} failed: HTTP ${e.status}: ${describeError(err)}`)
  }
  return new ActionError(`${where} failed: ${describeError(err)}`)
}
