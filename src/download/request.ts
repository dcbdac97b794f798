import type { IncomingMessage } from 'node:http'
import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'
import { displayUrl } from '../util/display-url.js'
import { ActionError, describeError } from '../util/errors.js'

type RequestHandler = NonNullable<ConstructorParameters<typeof HttpClient>[1]>[number]

const USER_AGENT = 'hook-bundle-action'

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
export class HttpStatusError extends Error {
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
export class TransferError extends Error {}

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
export async function request(
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
export function watchStalls(message: IncomingMessage): () => void {
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
