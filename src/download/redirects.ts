import { displayUrl } from '../util/display-url.js'
import { ActionError } from '../util/errors.js'

/**
 * Redirects followed per attempt. Release assets take one or two (github.com to its object
 * store); curl and browsers stop at 20 or so, @actions/http-client at 50. A chain past 10 is a
 * loop or a misconfigured mirror, and each hop is a request: say so early.
 */
export const MAX_REDIRECTS = 10
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

export function redirected(url: string, current: string): string | undefined {
  return current === url ? undefined : current
}

/** The URL a Location leads to, resolved against the URL that answered; only http(s). */
export function redirectTarget(from: string, location: string, what: string): string {
  let next: URL
  try {
    next = new URL(location, from)
  } catch {
    throw new ActionError(
      `${what}: ${displayUrl(from)} redirects to ${JSON.stringify(displayUrl(location))}, which is not a URL; the server is misconfigured`
    )
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new ActionError(
      `${what}: ${displayUrl(from)} redirects to ${displayUrl(next)}, which is not http(s); refusing to follow it`
    )
  }
  if (new URL(from).protocol === 'https:' && next.protocol === 'http:') {
    throw new ActionError(
      `${what}: ${displayUrl(from)} redirects to ${displayUrl(next)}, from https to plain http; refusing the downgrade, use an https mirror`
    )
  }
  return next.href
}
