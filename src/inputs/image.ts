import * as path from 'node:path'
import { ActionError } from '../util/errors.js'

export type ImageTarget =
  | { kind: 'registry'; registry: string; repository: string; name: string }
  | { kind: 'oci-layout'; dir: string; name: string }

const OCI_LAYOUT_PREFIX = 'oci-layout:'

// The distribution reference grammar (distribution/reference): lower-case path components
// separated by '/', each made of alphanumerics joined by '.', '_', '__' or dashes.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const HOST =
  /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+|\[[0-9A-Fa-f:]+\]|[A-Za-z0-9-]+)(?::\d{1,5})?$/

/** Validates the `image` input: a registry repository without tag or digest, or oci-layout:<dir>. */
export function parseImage(value: string): ImageTarget {
  const bad = (why: string): ActionError => new ActionError(`image ${JSON.stringify(value)} ${why}`)
  if (value.startsWith(OCI_LAYOUT_PREFIX)) {
    const dir = value.slice(OCI_LAYOUT_PREFIX.length)
    if (dir === '')
      throw bad('names no directory: use oci-layout:<dir>, e.g. oci-layout:./hook-oci')
    // oras splits its first argument at "," (tags) before anything else, and a layout reference
    // <dir>[:tag|@digest] at the last "@", else the last ":" (cmd/oras/internal/option/target.go):
    // a directory holding any of them is written somewhere else, or read with a reference nobody
    // gave. What oras receives is the absolute path, so the working directory counts too.
    const absolute = path.resolve(dir)
    const mark = [',', '@', ':'].find(m => absolute.includes(m))
    if (mark !== undefined) {
      const where = absolute === dir ? '' : ` (absolute path ${JSON.stringify(absolute)})`
      throw bad(
        `names a directory${where} with "${mark}", which oras reads as a tag list, tag or digest separator: choose a directory whose absolute path has no ",", ":" or "@"`
      )
    }
    return { kind: 'oci-layout', dir, name: value }
  }
  if (/^[a-z]+:\/\//i.test(value)) {
    throw bad('must not have a scheme: use registry/repository, e.g. ghcr.io/owner/hook-images')
  }
  if (value.includes('@')) {
    throw bad('must not contain a digest: give the repository only, e.g. ghcr.io/owner/hook-images')
  }
  const slash = value.indexOf('/')
  const registry = slash < 0 ? '' : value.slice(0, slash)
  const repository = slash < 0 ? value : value.slice(slash + 1)
  const looksLikeHost = registry.includes('.') || registry.includes(':') || registry === 'localhost'
  if (!looksLikeHost || !HOST.test(registry)) {
    throw bad(
      'must start with a registry host: use registry/repository, e.g. ghcr.io/owner/hook-images'
    )
  }
  const last = repository.split('/').pop() ?? ''
  if (last.includes(':')) {
    throw bad(
      'must not contain a tag: give the repository only and set tags through the tags input'
    )
  }
  const components = repository.split('/')
  if (repository === '' || components.some(c => !PATH_COMPONENT.test(c))) {
    const hint =
      repository !== repository.toLowerCase()
        ? ` (try ${registry}/${repository.toLowerCase()})`
        : ''
    throw bad(
      `has an invalid repository path: lower-case letters, digits and single separators (. _ __ -) between "/"-separated parts${hint}`
    )
  }
  if (value.length > 255) throw bad('is longer than 255 characters')
  return { kind: 'registry', registry, repository, name: `${registry}/${repository}` }
}

/** image: the input, or GHCR's repository of this workflow when something will be pushed. */
export function checkImage(
  imageInput: string,
  env: NodeJS.ProcessEnv,
  willPush: boolean
): ImageTarget | undefined {
  let image: ImageTarget | undefined
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
  return image
}

/** How oras names one tag of the target on its command line and in its output. */
export function reference(image: ImageTarget, tag: string): string {
  return image.kind === 'registry' ? `${image.name}:${tag}` : `${image.dir}:${tag}`
}
