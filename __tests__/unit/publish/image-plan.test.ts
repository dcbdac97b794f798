import { describe, expect, it } from '@jest/globals'
import {
  IMAGE_PLATFORMS,
  imageConfig,
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
