import { displayUrl } from '../util/display-url.js'
import { ActionError } from '../util/errors.js'

export interface DownloadUrl {
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
export function parseDownloadUrl(value: string): DownloadUrl {
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

export function checkHttpUrl(name: string, value: string): URL {
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
