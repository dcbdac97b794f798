import * as core from '@actions/core'
import { ActionError } from '../util/errors.js'

/** Asset names we accept from a release: they end up in paths, URLs and OCI titles. */
export const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

/** The assets this action may use: bundle archives and ISO images. */
const USABLE_ASSET = /hook_.*\.tar\.gz$|\.iso$/i

/**
 * Parses a release's checksum.txt. Hook writes `<hex><one space><name>`; sha512sum writes two
 * spaces, or ` *` in binary mode. All three are accepted. Returns name -> lower-case hex.
 *
 * Strict for what the action may use, lenient for the rest: a well-formed line naming an asset
 * that is neither `hook_*.tar.gz` nor `*.iso` with a name the action would refuse (say, a
 * release note with a space) is skipped with a debug line. That asset is never downloaded, so
 * failing every variant of the release over it protects nothing. A line that is not
 * `<sha512> <name>` at all still fails: it could be a mangled line of an asset that is used.
 */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>()
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, index) => {
    const line = raw.trim()
    if (line === '') return
    const m = /^([0-9a-fA-F]{128})(?: \*| {2}| )(\S(?:.*\S)?)$/.exec(line)
    if (!m) {
      throw new ActionError(
        `${source} line ${index + 1} is not "<sha512 hex> <file name>": ${JSON.stringify(truncate(line))}`
      )
    }
    const digest = m[1]!.toLowerCase()
    const name = m[2]!
    if (!SAFE_NAME.test(name)) {
      if (!USABLE_ASSET.test(name)) {
        core.debug(
          `${source} line ${index + 1}: ignoring ${JSON.stringify(truncate(name))}, not an asset this action uses`
        )
        return
      }
      throw new ActionError(
        `${source} line ${index + 1} names ${JSON.stringify(truncate(name))}: asset names may only use A-Z a-z 0-9 . _ -`
      )
    }
    const previous = sums.get(name)
    if (previous !== undefined && previous !== digest) {
      throw new ActionError(`${source} lists ${name} twice with different SHA-512 digests`)
    }
    sums.set(name, digest)
  })
  if (sums.size === 0) throw new ActionError(`${source} is empty: it lists no assets`)
  return sums
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
