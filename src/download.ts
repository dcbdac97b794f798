import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import * as path from 'node:path'
import * as tc from '@actions/tool-cache'
import { ActionError, describeError } from './errors.js'

/**
 * Downloads through @actions/tool-cache (which retries 5xx, 408, 429 and broken streams three
 * times with backoff) and turns its bare errors into one line naming the URL and what to do.
 * The timeout bounds a stalled server: tool-cache itself would wait forever.
 */
export async function download(
  url: string,
  what: string,
  timeoutMs: number,
  /** An Authorization header value (download-url credentials); http-client drops it on a redirect to another host. */
  authorization?: string
): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  // Named here, not by tool-cache, so that a download abandoned by the timeout can be removed.
  const dest = path.join(process.env['RUNNER_TEMP'] ?? '', randomUUID())
  const attempt = tc.downloadTool(url, dest, authorization)
  const timeout = new Promise<never>((_, reject) => {
    if (timeoutMs > 0) {
      timer = setTimeout(
        () =>
          reject(
            new ActionError(
              `downloading ${what} from ${url} took longer than download-timeout (${timeoutMs / 1000} s): the server is stalled or too slow; retry, raise download-timeout or use a mirror (download-url)`
            )
          ),
        timeoutMs
      )
      timer.unref()
    }
  })
  try {
    return await Promise.race([attempt, timeout])
  } catch (err) {
    await rm(dest, { force: true })
    throw explain(err, url, what)
  } finally {
    clearTimeout(timer)
  }
}

function explain(err: unknown, url: string, what: string): Error {
  if (err instanceof ActionError) return err
  if (err instanceof tc.HTTPError) {
    const status = err.httpStatusCode ?? 0
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
        `${what}: ${url} answered HTTP 429 (rate limited) after 3 attempts; retry later or use a mirror`
      )
    }
    if (status >= 500 || status === 408) {
      return new ActionError(
        `${what}: ${url} answered HTTP ${status} after 3 attempts; the server is failing, retry later`
      )
    }
    return new ActionError(`${what}: ${url} answered HTTP ${status}; expected 200`)
  }
  return new ActionError(
    `could not download ${what} from ${url} after 3 attempts: ${describeError(err)}`,
    {
      cause: err
    }
  )
}
