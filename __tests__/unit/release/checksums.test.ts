import { describe, expect, it } from '@jest/globals'
import { parseChecksums } from '../../../src/release/checksums.js'
import { ActionError } from '../../../src/util/errors.js'

const A = 'a'.repeat(128)
const B = 'B'.repeat(128)

describe('parseChecksums', () => {
  it('accepts hook’s one-space lines, sha512sum’s two spaces and binary-mode stars', () => {
    const sums = parseChecksums(
      `${A} hook_x86_64.tar.gz\n${B}  hook_aarch64.tar.gz\r\n${A} *hook.iso\n\n`,
      'c'
    )
    expect([...sums]).toEqual([
      ['hook_x86_64.tar.gz', A],
      ['hook_aarch64.tar.gz', 'b'.repeat(128)],
      ['hook.iso', A]
    ])
  })

  it('tolerates the same line twice', () => {
    expect(parseChecksums(`${A} x.tar.gz\n${A} x.tar.gz\n`, 'c').size).toBe(1)
  })

  it.each([
    ['a short digest', `${'a'.repeat(64)} x.tar.gz`, /line 1 is not "<sha512 hex> <file name>"/],
    ['three spaces', `${A}   x.tar.gz`, /line 1 is not/],
    ['an archive name with a space', `${A} hook_x y.tar.gz`, /names "hook_x y.tar.gz": asset/],
    ['a path to an archive', `${A} ../hook_x.tar.gz`, /may only use A-Z a-z 0-9/],
    ['shell characters in an archive name', `${A} hook_x;rm.tar.gz`, /may only use/],
    ['shell characters in an ISO name', `${A} hook-$(id).iso`, /may only use/],
    ['nothing at all', '\n\n', /is empty: it lists no assets/]
  ])('refuses %s with one line naming the problem', (_what, text, message) => {
    expect(() => parseChecksums(text, 'checksum.txt of v1')).toThrow(ActionError)
    expect(() => parseChecksums(text, 'checksum.txt of v1')).toThrow(message)
  })

  // Issue 10 item 8: one odd line about an asset the action never uses must not fail the release.
  it.each([
    ['a name with a space', 'release notes.txt'],
    ['a path', '../x.tar.gz'],
    ['shell characters', 'sbom;rm.spdx.json']
  ])('skips an unrelated asset with %s, keeping every usable line', (_what, name) => {
    const sums = parseChecksums(
      `${A} hook_x86_64.tar.gz\n${B} ${name}\n${A} hook-x86_64-efi-initrd.iso\n`,
      'c'
    )
    expect([...sums.keys()]).toEqual(['hook_x86_64.tar.gz', 'hook-x86_64-efi-initrd.iso'])
  })

  it('refuses an asset listed twice with different digests', () => {
    expect(() => parseChecksums(`${A} x.tar.gz\n${'c'.repeat(128)} x.tar.gz`, 'c')).toThrow(
      'c lists x.tar.gz twice with different SHA-512 digests'
    )
  })

  it('names the line of a malformed entry', () => {
    expect(() => parseChecksums(`${A} ok.tar.gz\ngarbage`, 'checksum.txt')).toThrow(
      'checksum.txt line 2 is not "<sha512 hex> <file name>": "garbage"'
    )
  })
})
