import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { displayUrl } from '../util/display-url.js'
import { ActionError } from '../util/errors.js'
import { bytes } from '../util/format.js'
import { fetchBody, type DownloadOptions } from './fetch-body.js'

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
