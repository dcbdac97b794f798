import { ActionError } from '../util/errors.js'
import { RFC3339_FORM, formatRfc3339, isOrasRfc3339, isStrictRfc3339 } from './rfc3339.js'

// 9999-12-31T23:59:59Z: RFC 3339 writes four-digit years only.
const MAX_SOURCE_DATE_EPOCH = 253402300799
export const CREATED_ANNOTATION = 'org.opencontainers.image.created'

/**
 * created (or SOURCE_DATE_EPOCH) as oras reads it; with format: image, it and the annotation
 * `org.opencontainers.image.created` must also be what containerd reads.
 */
export function checkCreated(
  input: string,
  sourceDateEpoch: string,
  format: string,
  createdAnnotation: string | undefined
): string | undefined {
  const created = parseCreated(input, sourceDateEpoch)
  if (format === 'image') {
    // The image config carries created too, and containerd reads it more strictly than oras.
    for (const [what, value] of [
      ['created', created],
      [`annotations: ${CREATED_ANNOTATION}`, createdAnnotation]
    ] as const) {
      if (value !== undefined && !isStrictRfc3339(value)) {
        throw new ActionError(
          `${what} ${JSON.stringify(value)} is read by oras but not by containerd, which reads the image config's created as strict RFC 3339 (format: image): use a two-digit hour, "." before a fraction and an offset within ±23:59, e.g. 2024-05-01T12:00:00Z`
        )
      }
    }
  }
  return created
}

/** An explicit `created` wins over SOURCE_DATE_EPOCH; both absent means derive from content. */
export function parseCreated(created: string, sourceDateEpoch: string): string | undefined {
  if (created !== '') {
    if (!isOrasRfc3339(created)) {
      throw new ActionError(
        `created ${JSON.stringify(created)} is not an RFC 3339 time as oras reads it: ${RFC3339_FORM}`
      )
    }
    return created
  }
  const epoch = sourceDateEpoch.trim()
  if (epoch !== '') {
    if (!/^\d+$/.test(epoch)) {
      throw new ActionError(
        `SOURCE_DATE_EPOCH ${JSON.stringify(epoch)} is not a whole number of seconds since 1970`
      )
    }
    if (Number(epoch) > MAX_SOURCE_DATE_EPOCH) {
      throw new ActionError(
        `SOURCE_DATE_EPOCH ${epoch} is after 9999-12-31T23:59:59Z (${MAX_SOURCE_DATE_EPOCH}), the last time RFC 3339 can write: give a smaller number of seconds since 1970`
      )
    }
    return rfc3339(new Date(Number(epoch) * 1000))
  }
  return undefined
}

/**
 * `created` derived from the newest file time inside the archives, second precision in UTC as
 * oras writes it. A time RFC 3339 cannot write (an archive entry dated past 9999, or a tar time
 * field JavaScript cannot hold) is refused by name instead of a bare "Invalid time value".
 */
export function rfc3339(date: Date): string {
  const text = formatRfc3339(date.getTime())
  if (text === undefined) {
    const when = Number.isNaN(date.getTime())
      ? 'not a valid time'
      : `${date.getTime() / 1000} s since 1970`
    throw new ActionError(
      `the newest file time inside the archives (${when}) is outside the years 0000 to 9999 that RFC 3339 can write, so created cannot be derived from it: set created (e.g. 2024-05-01T12:00:00Z) or SOURCE_DATE_EPOCH`
    )
  }
  return text
}
