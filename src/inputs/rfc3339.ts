/**
 * RFC 3339 as oras 1.3.2 reads `org.opencontainers.image.created`: oras-go's
 * ensureAnnotationCreated calls Go's `time.Parse(time.RFC3339, value)`. That parser is both
 * stricter than the RFC (upper-case `T` and `Z` only, a real calendar date, no leap second) and
 * looser (a one-digit hour, a comma before the fraction, offsets up to ±24:60), so a value is
 * checked against Go's rules here rather than against `Date.parse`, which rolls Feb 30 over into
 * March and accepts what oras refuses after every archive was downloaded.
 */
const GO_RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/

/** What is accepted, for error messages. */
export const RFC3339_FORM =
  'YYYY-MM-DDThh:mm:ss[.fraction] then Z or ±hh:mm, upper-case T and Z, a real calendar date, e.g. 2024-05-01T12:00:00Z'

export function isOrasRfc3339(value: string): boolean {
  const m = GO_RFC3339.exec(value)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const offsetHour = m[7] === undefined ? 0 : Number(m[7])
  const offsetMinute = m[8] === undefined ? 0 : Number(m[8])
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(month, year) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    // Go compares offsets with > rather than >=: "some people do write offsets of 24 hours".
    offsetHour <= 24 &&
    offsetMinute <= 60
  )
}

/**
 * What containerd accepts in an image config's `created`: Go's JSON decoding of time.Time is
 * strict RFC 3339 (time.parseStrictRFC3339), which refuses the leniencies time.Parse allows: a
 * one-digit hour, a comma before the fraction, an offset of 24 hours or 60 minutes.
 */
export function isStrictRfc3339(value: string): boolean {
  const m = GO_RFC3339.exec(value)
  return (
    m !== null &&
    isOrasRfc3339(value) &&
    m[4]!.length === 2 &&
    !value.includes(',') &&
    (m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59))
  )
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

// The years RFC 3339 (and so oras) can write: four digits.
const FIRST_MS = Date.parse('0000-01-01T00:00:00Z')
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * Second precision in UTC, as oras writes `created` itself; undefined for a time that RFC 3339
 * cannot write (before year 0, after 9999, or not a time at all), where `toISOString` would
 * throw a bare "Invalid time value" or write a six-digit year that oras refuses.
 */
export function formatRfc3339(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < FIRST_MS || ms > LAST_MS) return undefined
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
