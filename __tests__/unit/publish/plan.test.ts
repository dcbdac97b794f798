import { describe, expect, it } from '@jest/globals'
import { parseImage, reference } from '../../../src/inputs/image.js'
import { parseAnnotations } from '../../../src/inputs/lists.js'
import {
  annotationFile,
  mediaTypeFor,
  planAnnotations,
  planTags
} from '../../../src/publish/plan.js'

describe('planTags', () => {
  it('gives the original workflow’s tag set', () => {
    expect(planTags('v0.11.1', 'lts', false, [])).toEqual(['v0.11.1-lts', 'v0.11.1'])
    expect(planTags('v0.11.1', 'lts-all', false, [])).toEqual(['v0.11.1-lts-all', 'v0.11.1-all'])
    expect(planTags('v0.11.1', 'armbian-bcm2711', false, [])).toEqual(['v0.11.1-armbian-bcm2711'])
  })

  it('adds the latest family on request, and the extra tags, without duplicates', () => {
    expect(planTags('v0.11.1', 'lts', true, ['stable', 'v0.11.1'])).toEqual([
      'v0.11.1-lts',
      'v0.11.1',
      'latest-lts',
      'latest',
      'stable'
    ])
    expect(planTags('v0.11.1', 'lts-all', true, [])).toEqual([
      'v0.11.1-lts-all',
      'v0.11.1-all',
      'latest-lts-all',
      'latest-all'
    ])
    expect(planTags('latest', 'lts', true, [])).toEqual(['latest-lts', 'latest'])
  })
})

describe('annotations', () => {
  it('parses key=value lines, values may hold = and spaces', () => {
    expect(parseAnnotations('a=1\n\n b = x=y z \n')).toEqual({ a: '1', b: 'x=y z' })
  })

  it('plans the manifest annotations; the input overrides', () => {
    const a = planAnnotations({
      hookRepository: 'tinkerbell/hook',
      version: 'v0.11.1',
      variant: 'lts',
      created: '2024-05-01T12:00:00Z',
      extra: {
        'org.opencontainers.image.vendor': 'ACME',
        'org.opencontainers.image.description': 'mine'
      }
    })
    expect(a).toEqual({
      'org.opencontainers.image.source': 'https://github.com/tinkerbell/hook',
      'org.opencontainers.image.version': 'v0.11.1',
      'org.opencontainers.image.description': 'mine',
      'org.opencontainers.image.created': '2024-05-01T12:00:00Z',
      'org.tinkerbell.hook.variant': 'lts',
      'org.opencontainers.image.vendor': 'ACME'
    })
  })

  it('marks link layers with their target in the annotation file', () => {
    expect(
      annotationFile({ k: 'v' }, [
        { name: 'vmlinuz-lts', size: 1, sha256: 'a' },
        { name: 'vmlinuz-x86_64', size: 1, sha256: 'a', target: 'vmlinuz-lts' }
      ])
    ).toEqual({
      $manifest: { k: 'v' },
      'vmlinuz-x86_64': { 'org.tinkerbell.hook.link': 'vmlinuz-lts' }
    })
  })

  it('labels dtbs tarballs gzip and boot files opaque', () => {
    expect(mediaTypeFor('dtbs-armbian-bcm2711-current.tar.gz')).toBe('application/gzip')
    expect(mediaTypeFor('initramfs-x86_64')).toBe('application/octet-stream')
  })
})

describe('parseImage', () => {
  it('accepts registries with ports, nested paths and OCI layouts', () => {
    expect(parseImage('127.0.0.1:5000/hook/images')).toMatchObject({
      registry: '127.0.0.1:5000',
      repository: 'hook/images'
    })
    expect(parseImage('localhost/a__b.c-d')).toMatchObject({
      registry: 'localhost',
      repository: 'a__b.c-d'
    })
    expect(parseImage('oci-layout:./out')).toEqual({
      kind: 'oci-layout',
      dir: './out',
      name: 'oci-layout:./out'
    })
    expect(reference(parseImage('ghcr.io/o/r'), 't')).toBe('ghcr.io/o/r:t')
    expect(reference(parseImage('oci-layout:/tmp/x'), 't')).toBe('/tmp/x:t')
  })

  it.each([
    [
      'ghcr.io/Owner/repo',
      'invalid repository path: lower-case letters, digits and single separators (. _ __ -) between "/"-separated parts (try ghcr.io/owner/repo)'
    ],
    ['ghcr.io/o/r:v1', 'must not contain a tag'],
    ['ghcr.io/o/r@sha256:abc', 'must not contain a digest'],
    ['https://ghcr.io/o/r', 'must not have a scheme'],
    ['owner/repo', 'must start with a registry host'],
    ['ghcr.io/', 'invalid repository path'],
    ['ghcr.io/o//r', 'invalid repository path'],
    ['ghcr.io/o/-r', 'invalid repository path'],
    ['oci-layout:', 'names no directory']
  ])('refuses %s', (image, message) => {
    expect(() => parseImage(image)).toThrow(message)
  })
})
