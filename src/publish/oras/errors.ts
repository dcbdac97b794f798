import { ActionError } from '../../util/errors.js'
import type { ImageTarget } from '../../inputs/image.js'

/** What a failing call was doing, as its error line names it. */
export type Verb = 'push to' | 'read' | 'tag in'

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

export function firstError(stderr: string): string {
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
