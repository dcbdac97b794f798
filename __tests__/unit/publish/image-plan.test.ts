import { describe, expect, it } from '@jest/globals'
import {
  IMAGE_PLATFORMS,
  imageConfig,
  manifestWithConfig,
  planLayers,
  platformName
} from '../../../src/publish/image-plan.js'

const entries = [
  { name: 'initramfs-latest-lts-x86_64', size: 20, sha256: 'a'.repeat(64) },
  { name: 'vmlinuz-x86_64', size: 10, sha256: 'b'.repeat(64), target: 'vmlinuz-latest-lts-x86_64' }
]

describe('planLayers', () => {
  it('gives every entry one layer at the image root with fixed owner, mode and time', () => {
    expect(planLayers(entries)).toEqual([
      {
        entry: 'initramfs-latest-lts-x86_64',
        file: 'initramfs-latest-lts-x86_64.tar',
        header: {
          name: 'initramfs-latest-lts-x86_64',
          type: 'file',
          mode: 0o644,
          size: 20,
          mtime: new Date(0),
          uid: 0,
          gid: 0,
          uname: '',
          gname: ''
        }
      },
      {
        entry: 'vmlinuz-x86_64',
        file: 'vmlinuz-x86_64.tar',
        header: {
          name: 'vmlinuz-x86_64',
          type: 'symlink',
          mode: 0o777,
          size: 0,
          linkname: 'vmlinuz-latest-lts-x86_64',
          mtime: new Date(0),
          uid: 0,
          gid: 0,
          uname: '',
          gname: ''
        }
      }
    ])
  })
})

describe('imageConfig', () => {
  it('is canonical JSON: created, platform, sorted labels, the diff_ids in layer order', () => {
    const annotations = {
      'org.tinkerbell.hook.variant': 'lts',
      'org.opencontainers.image.created': '2024-05-01T12:00:00Z'
    }
    expect(imageConfig(IMAGE_PLATFORMS[1]!, ['sha256:1', 'sha256:2'], annotations)).toBe(
      '{"created":"2024-05-01T12:00:00Z","architecture":"arm64","os":"linux","config":{"Labels":{"org.opencontainers.image.created":"2024-05-01T12:00:00Z","org.tinkerbell.hook.variant":"lts"}},"rootfs":{"type":"layers","diff_ids":["sha256:1","sha256:2"]}}'
    )
  })

  it('plans linux/amd64 and linux/arm64', () => {
    expect(IMAGE_PLATFORMS.map(platformName)).toEqual(['linux/amd64', 'linux/arm64'])
  })
})

describe('manifestWithConfig', () => {
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest: `sha256:${'c'.repeat(64)}`,
    size: 2048,
    annotations: { 'org.opencontainers.image.title': 'vmlinuz-x86_64.tar' }
  }
  // As oras 1.3 exports it: Go's field order, no spaces.
  const first = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 300
    },
    layers: [layer],
    annotations: { 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' }
  })
  const config = { digest: `sha256:${'d'.repeat(64)}`, size: 301 }

  it('replaces only the config descriptor, keeping every other byte in order', () => {
    const made = manifestWithConfig(first, config)!
    expect(made).toBe(
      first.replace(
        `"digest":"sha256:${'a'.repeat(64)}","size":300`,
        `"digest":"${config.digest}","size":301`
      )
    )
    expect(JSON.parse(made).layers).toEqual([layer])
  })

  it('gives the same bytes every time (the index digest stays reproducible)', () => {
    expect(manifestWithConfig(first, config)).toBe(manifestWithConfig(first, config))
  })

  it('refuses what is not an image manifest with an image config', () => {
    expect(manifestWithConfig('not json', config)).toBeUndefined()
    const artifact = JSON.parse(first) as Record<string, unknown>
    artifact.artifactType = 'application/vnd.tinkerbell.hook.bundle.v1'
    artifact.config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'x', size: 2 }
    expect(manifestWithConfig(JSON.stringify(artifact), config)).toBeUndefined()
    const index = {
      ...(JSON.parse(first) as object),
      mediaType: 'application/vnd.oci.image.index.v1+json'
    }
    expect(manifestWithConfig(JSON.stringify(index), config)).toBeUndefined()
  })
})
