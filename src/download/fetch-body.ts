import type { Readable } from 'node:stream'
import * as core from '@actions/core'
import { displayUrl } from '../util/display-url.js'
import { ActionError, describeError } from '../util/errors.js'
import { MAX_REDIRECTS, REDIRECT_STATUSES, redirectTarget, redirected } from './redirects.js'
import { HttpStatusError, TransferError, request, watchStalls } from './request.js'

export interface DownloadOptions {
  /** What is downloaded, as the messages name it (an asset name). */
  what: string
  /** Bounds the whole download, retries included; 0: no limit. */
  timeoutMs: number
  /** Sent as the Authorization header (credentials given in download-url). */
  authorization?: string
}

/**
 * Reads one attempt's response body. It must leave nothing behind when it rejects: a retry
 * calls it again from the first byte. Errors it throws itself (ActionError) are final; the
 * body failing under it (a broken connection) is retried.
 */
type BodyConsumer<T> = (body: Readable) => Promise<T>

// tool-cache's policy for downloadTool (ACTIONS-RUNTIME.md), kept for every download here.
const MAX_ATTEMPTS = 3
const RETRY_MIN_SECONDS = 10
const RETRY_MAX_SECONDS = 20

/**
 * GETs `url` with @actions/http-client (which honours https_proxy / no_proxy) and hands the body
 * to `consume` as it arrives, so it can be hashed, inflated and extracted in one pass with no
 * copy on disk. Redirects are followed here, not by the client (see fetchOnce). Retries as
 * tool-cache does, and turns every failure into one line naming the URL (as displayUrl shows it).
 */
export async function fetchBody<T>(
  url: string,
  opts: DownloadOptions,
  consume: BodyConsumer<T>
): Promise<T> {
  const deadline = new AbortController()
  let timer: NodeJS.Timeout | undefined
  if (opts.timeoutMs > 0) {
    // A stalled server would otherwise hold the step until the job's own timeout.
    timer = setTimeout(() => deadline.abort(), opts.timeoutMs)
    timer.unref()
  }
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchOnce(url, opts, consume, deadline.signal)
      } catch (err) {
        if (deadline.signal.aborted) throw timedOut(url, opts)
        if (!retryable(err) || attempt >= MAX_ATTEMPTS) throw explain(err, url, opts.what, attempt)
        core.info(`${opts.what}: ${describeError(err)}`)
        const wait = backoffSeconds()
        core.info(`Waiting ${wait} seconds before trying again`)
        await sleep(wait * 1000, deadline.signal)
        if (deadline.signal.aborted) throw timedOut(url, opts)
      }
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * One attempt: the request, each redirect followed as a new request, then the body.
 *
 * @actions/http-client follows redirects itself, but (as of 4.0) it reads each redirect's whole
 * body into memory first, with no bound and beyond the reach of a timeout (a stalled or endless
 * redirect body left the process hanging on a promise that never settles), resolves no relative
 * Location, and keeps the Authorization header on another port or scheme of the same host name.
 * So redirects are followed here: a redirect's body is never read, a Location is resolved
 * against the URL that answered (RFC 9110), https is never downgraded to http, the credentials
 * go only to the origin (scheme, host and port) they were given for, as curl does since
 * CVE-2022-27776, and the chain stops after MAX_REDIRECTS.
 */
async function fetchOnce<T>(
  url: string,
  opts: DownloadOptions,
  consume: BodyConsumer<T>,
  signal: AbortSignal
): Promise<T> {
  const origin = new URL(url).origin
  let current = url
  for (let redirects = 0; ; redirects++) {
    const authorization = new URL(current).origin === origin ? opts.authorization : undefined
    const { message, close } = await request(current, authorization, signal, opts.what)
    try {
      const status = message.statusCode ?? 0
      if (REDIRECT_STATUSES.has(status)) {
        const location = message.headers.location
        // Never read: closing the connection is the only bound on what a redirect may send.
        message.destroy()
        if (location === undefined)
          throw new HttpStatusError(status, redirected(url, current), true)
        const next = redirectTarget(current, location, opts.what)
        if (redirects >= MAX_REDIRECTS) {
          throw new ActionError(
            `${opts.what}: too many redirects from ${displayUrl(url)} (more than ${MAX_REDIRECTS}, the last to ${displayUrl(next)}); the server redirects in a loop or too deep, check the URL`
          )
        }
        core.debug(`${displayUrl(current)} redirects (HTTP ${status}) to ${displayUrl(next)}`)
        current = next
        continue
      }
      if (status !== 200) {
        message.resume()
        throw new HttpStatusError(status, redirected(url, current))
      }
      // Node ends a body shorter than its Content-Length with an error, which lands here.
      let broken: Error | undefined
      message.on('error', err => (broken ??= err))
      const unwatch = watchStalls(message)
      try {
        return await consume(message)
      } catch (err) {
        // The consumer's own verdicts (ActionError) stand; anything else that failed while the
        // body broke under it was caused by the transfer, and another attempt may succeed.
        if (broken && !(err instanceof ActionError))
          throw new TransferError(describeError(broken), { cause: broken })
        throw err
      } finally {
        unwatch()
      }
    } finally {
      close()
    }
  }
}

function retryable(err: unknown): boolean {
  if (err instanceof HttpStatusError)
    return err.status >= 500 || err.status === 408 || err.status === 429
  return err instanceof TransferError
}

/** tool-cache reads its test overrides from globalThis, not the environment: so does this. */
function backoffSeconds(): number {
  const setting = (key: string, fallback: number): number => {
    const value = (globalThis as Record<string, unknown>)[key]
    return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value) : fallback
  }
  const min = setting('TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS', RETRY_MIN_SECONDS)
  const max = Math.max(min, setting('TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS', RETRY_MAX_SECONDS))
  return min + Math.floor(Math.random() * (max - min + 1))
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

function timedOut(url: string, opts: DownloadOptions): ActionError {
  return new ActionError(
    `downloading ${opts.what} from ${displayUrl(url)} took longer than download-timeout (${opts.timeoutMs / 1000} s): the server is stalled or too slow; retry, raise download-timeout or use a mirror (download-url)`
  )
}

function explain(err: unknown, url: string, what: string, attempts: number): Error {
  if (err instanceof ActionError) return err
  const shown = displayUrl(url)
  if (err instanceof HttpStatusError) {
    const status = err.status
    const where =
      err.redirectedTo === undefined
        ? shown
        : `${shown} (redirected to ${displayUrl(err.redirectedTo)})`
    if (status === 404) {
      return new ActionError(
        `${what} not found: ${where} answered HTTP 404; check the version, the repository and download-url`
      )
    }
    if (status === 401 || status === 403) {
      return new ActionError(
        `${what}: ${where} answered HTTP ${status} (access denied or rate limited); check download-url and its access, or retry later`
      )
    }
    if (status === 429) {
      return new ActionError(
        `${what}: ${where} answered HTTP 429 (rate limited) after ${attempts} attempts; retry later or use a mirror`
      )
    }
    if (status >= 500 || status === 408) {
      return new ActionError(
        `${what}: ${where} answered HTTP ${status} after ${attempts} attempts; the server is failing, retry later`
      )
    }
    if (err.noLocation) {
      return new ActionError(
        `${what}: ${where} answered HTTP ${status}, a redirect without a Location; the server is misconfigured`
      )
    }
    return new ActionError(`${what}: ${where} answered HTTP ${status}; expected 200`)
  }
  if (err instanceof TransferError) {
    return new ActionError(
      `could not download ${what} from ${shown} after ${attempts} attempts: ${describeError(err)}`,
      { cause: err }
    )
  }
  return new ActionError(`could not download ${what} from ${shown}: ${describeError(err)}`, {
    cause: err
  })
}
