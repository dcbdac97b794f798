import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import * as path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'
import { ActionError, describeError } from './errors.js'
import { bytes } from './format.js'

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

/** An answer that is not 200: retried when the server may recover (5xx, 408, 429). */
class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`Unexpected HTTP response: ${status}`)
  }
}

/** The response body broke or ended short: the bytes are incomplete, another attempt may not be. */
class TransferError extends Error {}

/**
 * GETs `url` with @actions/http-client (which honours https_proxy / no_proxy and follows
 * redirects, dropping the Authorization header on another host) and hands the body to `consume`
 * as it arrives, so it can be hashed, inflated and extracted in one pass with no copy on disk.
 * Retries as tool-cache does, and turns every failure into one line naming the URL.
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

async function fetchOnce<T>(
  url: string,
  opts: DownloadOptions,
  consume: BodyConsumer<T>,
  signal: AbortSignal
): Promise<T> {
  // One client per attempt: disposing it destroys its sockets, which is how a timeout ends a
  // request still waiting for its headers.
  const client = new HttpClient(USER_AGENT, [], { allowRetries: false, keepAlive: false })
  let message: IncomingMessage | undefined
  const abort = (): void => {
    client.dispose()
    message?.destroy(new TransferError('aborted by download-timeout'))
  }
  signal.addEventListener('abort', abort, { once: true })
  try {
    if (signal.aborted) throw new TransferError('aborted by download-timeout')
    core.debug(`Downloading ${url}`)
    const headers = opts.authorization ? { authorization: opts.authorization } : {}
    const response = await client.get(url, headers).catch((err: unknown) => {
      throw new TransferError(describeError(err), { cause: err })
    })
    message = response.message
    // Node ends a body shorter than its Content-Length with an error, which lands here.
    let broken: Error | undefined
    message.on('error', err => (broken ??= err))
    const status = message.statusCode ?? 0
    if (status !== 200) {
      message.resume()
      throw new HttpStatusError(status)
    }
    try {
      return await consume(message)
    } catch (err) {
      // The consumer's own verdicts (ActionError) stand; anything else that failed while the
      // body broke under it was caused by the transfer, and another attempt may succeed.
      if (broken && !(err instanceof ActionError))
        throw new TransferError(describeError(broken), { cause: broken })
      throw err
    }
  } finally {
    signal.removeEventListener('abort', abort)
    message?.destroy()
    client.dispose()
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
    `downloading ${opts.what} from ${url} took longer than download-timeout (${opts.timeoutMs / 1000} s): the server is stalled or too slow; retry, raise download-timeout or use a mirror (download-url)`
  )
}

function explain(err: unknown, url: string, what: string, attempts: number): Error {
  if (err instanceof ActionError) return err
  if (err instanceof HttpStatusError) {
    const status = err.status
    if (status === 404) {
      return new ActionError(
        `${what} not found: ${url} answered HTTP 404; check the version, the repository and download-url`
      )
    }
    if (status === 401 || status === 403) {
      return new ActionError(
        `${what}: ${url} answered HTTP ${status} (access denied or rate limited); check download-url and its access, or retry later`
      )
    }
    if (status === 429) {
      return new ActionError(
        `${what}: ${url} answered HTTP 429 (rate limited) after ${attempts} attempts; retry later or use a mirror`
      )
    }
    if (status >= 500 || status === 408) {
      return new ActionError(
        `${what}: ${url} answered HTTP ${status} after ${attempts} attempts; the server is failing, retry later`
      )
    }
    return new ActionError(`${what}: ${url} answered HTTP ${status}; expected 200`)
  }
  if (err instanceof TransferError) {
    return new ActionError(
      `could not download ${what} from ${url} after ${attempts} attempts: ${describeError(err)}`,
      { cause: err }
    )
  }
  return new ActionError(`could not download ${what} from ${url}: ${describeError(err)}`, {
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
          `${opts.what} from ${url} is larger than ${bytes(opts.maxBytes)}: that is not a release's checksum file; check download-url`
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
