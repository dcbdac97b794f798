import { ActionError } from '../util/errors.js'

/** The inputs that are lists: tags, annotations and extra-files, parsed line by line. */

// The OCI distribution spec's tag grammar.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/

export function checkTag(tag: string, source: string): string {
  if (!TAG.test(tag)) {
    throw new ActionError(
      `${source} ${JSON.stringify(tag)} is not a valid tag: 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`
    )
  }
  return tag
}

/** The `tags` input: comma or newline separated. */
export function parseTagList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map(t => t.trim())
    .filter(t => t !== '')
    .map(t => checkTag(t, 'tag'))
}

/** The `annotations` input: one `key=value` per line, blank lines ignored. */
export function parseAnnotations(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return
    const eq = line.indexOf('=')
    const key = eq < 0 ? '' : line.slice(0, eq).trim()
    if (eq < 0 || key === '' || /\s/.test(key)) {
      throw new ActionError(
        `annotations line ${i + 1} ${JSON.stringify(line)} is not key=value (one annotation per line, e.g. org.opencontainers.image.vendor=ACME)`
      )
    }
    out[key] = line.slice(eq + 1).trim()
  })
  return out
}

/** The `extra-files` input: one glob pattern per line; blank lines and `#` comments skipped. */
export function parseExtraFilePatterns(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
}
