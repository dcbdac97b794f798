import { describe, expect, it } from '@jest/globals'
import { parseFetchOutput, type PublishedManifest } from '../../../src/publish/oras/output.js'
import { canonicalJson, planProvenance, type ProvenanceFacts } from '../../../src/publish/plan.js'
import { describeTag, explain, planRepublish } from '../../../src/publish/republish.js'

const FACTS: ProvenanceFacts = {
  format: 'artifact',
  variant: 'lts',
  hookRepository: 'tinkerbell/hook',
  release: 'v0.11.1',
  sources: [
    { asset: 'hook_latest-lts-x86_64.tar.gz', sha512: 'b'.repeat(128) },
    { asset: 'hook_latest-lts-aarch64.tar.gz', sha512: 'a'.repeat(128) }
  ],
  artifactType: 'application/vnd.tinkerbell.hook.os.v1+tar',
  annotations: {},
  created: 'derived',
  iso: false,
  extraFiles: {},
  orasVersion: '1.3.2'
}

describe('planProvenance', () => {
  it('records variant, format, layout, the sorted sources and the inputs digest', () => {
    const p = planProvenance(FACTS)
    expect(p).toEqual({
      'org.tinkerbell.hook.variant': 'lts',
      'org.tinkerbell.hook.format': 'artifact',
      'org.tinkerbell.hook.layout': '1',
      'org.tinkerbell.hook.sources': `{"hook_latest-lts-aarch64.tar.gz":"${'a'.repeat(128)}","hook_latest-lts-x86_64.tar.gz":"${'b'.repeat(128)}"}`,
      'org.tinkerbell.hook.inputs': expect.stringMatching(/^sha256:[0-9a-f]{64}$/)
    })
  })

  it('the inputs digest ignores order, and changes with everything that shapes the bytes', () => {
    const inputs = (f: ProvenanceFacts): string => planProvenance(f)['org.tinkerbell.hook.inputs']!
    const base = inputs(FACTS)
    expect(inputs({ ...FACTS, sources: [...FACTS.sources].reverse() })).toBe(base)
    expect(
      inputs({ ...FACTS, annotations: { b: '2', a: '1' } }) ===
        inputs({ ...FACTS, annotations: { a: '1', b: '2' } })
    ).toBe(true)
    const changed: Array<Partial<ProvenanceFacts>> = [
      { format: 'image' },
      { variant: 'lts-all' },
      { hookRepository: 'fork/hook' },
      { release: 'v0.11.2' },
      { sources: [{ ...FACTS.sources[0]!, sha512: 'c'.repeat(128) }, FACTS.sources[1]!] },
      { artifactType: 'application/x-other' },
      { annotations: { 'org.example.k': 'v' } },
      { created: '2030-01-01T00:00:00Z' },
      { iso: true },
      { extraFiles: { 'boot.ipxe': 'd'.repeat(64) } },
      { orasVersion: '1.3.3' }
    ]
    const digests = changed.map(c => inputs({ ...FACTS, ...c }))
    expect(new Set([base, ...digests]).size).toBe(changed.length + 1)
  })

  it('canonical JSON sorts keys at every depth and has no spaces', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 'x' }], a: true })).toBe(
      '{"a":true,"b":[{"c":"x","d":1}]}'
    )
  })
})

const OURS = 'sha256:' + '1'.repeat(64)
const D1 = 'sha256:' + 'd'.repeat(64)
const D2 = 'sha256:' + 'e'.repeat(64)
const ours = (digest = D1): PublishedManifest => ({
  digest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  annotations: { 'org.tinkerbell.hook.inputs': OURS }
})
const other = (annotations: Record<string, string> = {}): PublishedManifest => ({
  digest: D2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  annotations
})

describe('planRepublish', () => {
  it('every tag on a bundle from the same inputs: skip', () => {
    expect(planRepublish(['a', 'b'], [ours(), ours()], OURS)).toEqual({ kind: 'skip', digest: D1 })
  })

  it('some tags missing or elsewhere: move only those', () => {
    expect(planRepublish(['a', 'b', 'c'], [ours(), undefined, other({ x: 'y' })], OURS)).toEqual({
      kind: 'retag',
      digest: D1,
      move: ['b', 'c']
    })
    // The tag that names our bundle need not be the first.
    expect(planRepublish(['a', 'b'], [undefined, ours()], OURS)).toEqual({
      kind: 'retag',
      digest: D1,
      move: ['a']
    })
  })

  it('no tag on a bundle from the same inputs: push', () => {
    expect(planRepublish(['a'], [undefined], OURS)).toEqual({ kind: 'push' })
    expect(
      planRepublish(
        ['a'],
        [other({ 'org.tinkerbell.hook.inputs': 'sha256:' + '2'.repeat(64) })],
        OURS
      )
    ).toEqual({ kind: 'push' })
    expect(planRepublish(['a'], [other()], OURS)).toEqual({ kind: 'push' })
  })

  it('says what each tag holds and why', () => {
    expect(describeTag('r:a', undefined, OURS)).toBe('r:a: not found')
    expect(describeTag('r:a', ours(), OURS)).toBe(
      `r:a: ${D1}, built from the same inputs (${OURS})`
    )
    expect(describeTag('r:a', other(), OURS)).toBe(
      `r:a: ${D2}, not pushed by this action (no org.tinkerbell.hook.inputs annotation)`
    )
    expect(explain({ kind: 'retag', digest: D1, move: ['latest'] }, ['v1', 'latest'])).toBe(
      `1 of 2 tags already point at ${D1}, built from the same inputs: moving latest to it, nothing downloaded or pushed`
    )
  })
})

describe('parseFetchOutput', () => {
  it('reads digest, media type and the manifest (or index) annotations', () => {
    const out = JSON.stringify({
      reference: `r@${D1}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: D1,
      size: 10,
      content: { schemaVersion: 2, annotations: { k: 'v', n: 1 } }
    })
    expect(parseFetchOutput(out, 'r:a')).toEqual({
      digest: D1,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      annotations: { k: 'v' }
    })
  })

  it('anything else is an error, never "absent"', () => {
    expect(() => parseFetchOutput('not json', 'r:a')).toThrow(
      'oras manifest fetch printed no JSON manifest for r:a'
    )
    expect(() => parseFetchOutput(JSON.stringify({ digest: D1 }), 'r:a')).toThrow('r:a')
  })
})
