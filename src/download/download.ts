import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import * as path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'
import { displayUrl } from '../util/display-url.js'
import { ActionError, describeError } from '../util/errors.js'
import { bytes } from '../util/format.js'

type RequestHandler = NonNullable<ConstructorParameters<typeof HttpClient>[1]>[number]

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
const USER_AGENT = 'hook-bundle-action'

/**
 * Redirects followed per attempt. Release assets take one or two (github.com to its object
 * store); curl and browsers stop at 20 or so, @actions/http-client at 50. A chain past 10 is a
 * loop or a misconfigured mirror, and each hop is a request: say so early.
 */
export const MAX_REDIRECTS = 10
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/**
 * Connect timeout: a host that does not take the connection (a firewall dropping packets, a
 * machine that is down) would otherwise hold an attempt until the kernel gives up, about two
 * minutes on Linux. A server a runner can use connects within a second or two, even across
 * continents; 15 s leaves room for a slow proxy or a busy runner and still fails an attempt
 * quickly.
 */
const CONNECT_TIMEOUT_SECONDS = 15

/**
 * Stall limit: an attempt that receives no byte for this long (no response once connected, or a
 * body that stops) has failed and is retried, instead of waiting out download-timeout (15 min
 * by default). GitHub's CDN and common mirrors answer in well under a second and never pause a
 * healthy transfer for tens of seconds; 30 s is long enough not to abandon a slow but moving
 * download, short enough that three stalled attempts cost minutes, not the step's timeout. Time
 * in which this process itself is not reading (its disk or CPU behind) does not count.
 */
const STALL_SECONDS = 30

/** An answer that is not 200: retried when the server may recover (5xx, 408, 429). */
class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    /** Where the answer came from, when redirects led away from the URL asked for. */
    readonly redirectedTo?: string,
    readonly noLocation = false
  ) {
    super(`Unexpected HTTP response: ${status}`)
  }
}

/** The response body broke or ended short: the bytes are incomplete, another attempt may not be. */
class TransferError extends Error {}

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

function redirected(url: string, current: string): string | undefined {
  return current === url ? undefined : current
}

/** The URL a Location leads to, resolved against the URL that answered; only http(s). */
function redirectTarget(from: string, location: string, what: string): string {
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

/** How many seconds a setting is, with the tests' override (read from globalThis, as below). */
function testSeconds(key: string, fallback: number): number {
  const value = (globalThis as Record<string, unknown>)[key]
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback
}

const stallSeconds = (): number => testSeconds('TEST_HOOK_BUNDLE_STALL_SECONDS', STALL_SECONDS)
const connectSeconds = (): number =>
  testSeconds('TEST_HOOK_BUNDLE_CONNECT_SECONDS', CONNECT_TIMEOUT_SECONDS)

/**
 * One GET with its own client: disposing it destroys its sockets, which is how a timeout ends a
 * request still waiting for its headers. Resolves once the response headers are in.
 */
async function request(
  url: string,
  authorization: string | undefined,
  signal: AbortSignal,
  what: string
): Promise<{ message: IncomingMessage; close: () => void }> {
  const connectMs = connectSeconds() * 1000
  // http.request's `timeout` counts from the socket's creation, so it bounds the connect; once
  // connected, http-client replaces it with socketTimeout, which bounds the wait for the headers.
  const connectTimeout: RequestHandler = {
    prepareRequest: options => void (options.timeout = connectMs),
    canHandleAuthentication: () => false,
    handleAuthentication: () => Promise.reject(new Error('not supported'))
  }
  const client = new HttpClient(USER_AGENT, [connectTimeout], {
    allowRetries: false,
    allowRedirects: false,
    keepAlive: false,
    socketTimeout: stallSeconds() * 1000
  })
  let message: IncomingMessage | undefined
  const abort = (): void => {
    client.dispose()
    message?.destroy(new TransferError('aborted by download-timeout'))
  }
  signal.addEventListener('abort', abort, { once: true })
  const close = (): void => {
    signal.removeEventListener('abort', abort)
    message?.destroy()
    client.dispose()
  }
  try {
    if (signal.aborted) throw new TransferError('aborted by download-timeout')
    core.debug(`Downloading ${displayUrl(url)}`)
    const headers = authorization ? { authorization } : {}
    const response = await client.get(url, headers).catch((err: unknown) => {
      throw requestFailure(err, url, what)
    })
    message = response.message
    return { message, close }
  } catch (err) {
    close()
    throw err
  }
}

/** Why a request got no response, as one retryable or final error. */
function requestFailure(err: unknown, url: string, what: string): Error {
  const e = err as NodeJS.ErrnoException & { hostname?: string }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    // Retrying cannot make a name resolve within this step: fail at once, naming the name (the
    // proxy's, when it is the proxy that does not resolve).
    const host = e.hostname ?? new URL(url).hostname
    return new ActionError(
      `could not download ${what} from ${displayUrl(url)}: the host name ${host} does not resolve (${e.code}); check the URL's host name and the runner's DNS`
    )
  }
  // http-client's own timeout error names the request path, query included: not shown.
  if (e instanceof Error && e.message.startsWith('Request timeout')) {
    return new TransferError(
      `no answer from ${new URL(url).host} (no connection within ${connectSeconds()} s, or no response within ${stallSeconds()} s of connecting)`
    )
  }
  return new TransferError(describeError(err), { cause: err })
}

/**
 * Fails the body with a TransferError once no byte arrived for the stall limit while this
 * process was waiting for one. Time the body sat unread here (the consumer behind: the socket
 * paused, bytes buffered) is not a stall. Returns the function that stops watching.
 */
function watchStalls(message: IncomingMessage): () => void {
  const socket = message.socket
  const seconds = stallSeconds()
  // http-client's idle timeout would only half-close the socket; the watch below replaces it.
  socket.setTimeout(0)
  const timer = setTimeout(function check() {
    if (message.readableLength > 0 || socket.isPaused()) {
      timer.refresh()
      return
    }
    message.destroy(new TransferError(`no data for ${seconds} s (the stall limit)`))
  }, seconds * 1000)
  timer.unref()
  const touch = (): void => void timer.refresh()
  socket.on('data', touch)
  return () => {
    clearTimeout(timer)
    socket.off('data', touch)
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

export interface DownloadedFile {
  file: string
  size: number
  /** Hex digest of the bytes, when one was asked for: computed as they arrived. */
  digest?: string
}

/**
 * Downloads to a new file in RUNNER_TEMP (for small files, and for what must be on disk whole:
 * checksum files, the oras archive, ISOs), optionally hashing the bytes on their way to disk.
 * A failed or abandoned attempt leaves no file behind.
 */
export async function downloadFile(
  url: string,
  opts: DownloadOptions & { hash?: 'sha256' | 'sha512'; dir?: string }
): Promise<DownloadedFile> {
  const dir = opts.dir ?? process.env['RUNNER_TEMP'] ?? ''
  return fetchBody(url, opts, async body => {
    const file = path.join(dir, randomUUID())
    const hash = opts.hash ? createHash(opts.hash) : undefined
    let size = 0
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash?.update(chunk)
            size += chunk.length
            yield chunk
          }
        },
        createWriteStream(file, { flags: 'wx' })
      )
    } catch (err) {
      await rm(file, { force: true })
      throw writeFailure(err, file, opts.what)
    }
    return hash ? { file, size, digest: hash.digest('hex') } : { file, size }
  })
}

/**
 * A small text file (checksum.txt), read into memory: no file to write, read back and remove.
 * It is refused past `maxBytes`, so a server that sends without end cannot fill the memory.
 */
export async function fetchText(
  url: string,
  opts: DownloadOptions & { maxBytes: number }
): Promise<string> {
  return fetchBody(url, opts, async body => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > opts.maxBytes) {
        body.destroy()
        throw new ActionError(
          `${opts.what} from ${displayUrl(url)} is larger than ${bytes(opts.maxBytes)}: that is not a release's checksum file; check download-url`
        )
      }
      chunks.push(chunk)
    }
    return Buffer.concat(chunks, size).toString('utf8')
  })
}

/** The file-based download of today's callers: returns the path of the downloaded file. */
export async function download(
  url: string,
  what: string,
  timeoutMs: number,
  authorization?: string
): Promise<string> {
  const opts: DownloadOptions = { what, timeoutMs }
  if (authorization !== undefined) opts.authorization = authorization
  return (await downloadFile(url, opts)).file
}

/**
 * A local write that failed for lack of space or rights is final (retrying cannot fix it) and
 * says where; anything else is left for fetchBody to classify.
 */
export function writeFailure(err: unknown, file: string, what: string): Error {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ActionError(
      `no space left to write ${what} into ${path.dirname(file)} (${code}): free disk space on the runner (RUNNER_TEMP) and run the step again`
    )
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ActionError(
      `cannot write ${what} into ${path.dirname(file)} (${code}): RUNNER_TEMP must be writable by the runner`
    )
  }
  return err instanceof Error ? err : new Error(String(err))
}
