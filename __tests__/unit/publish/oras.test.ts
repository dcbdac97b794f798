import { describe, expect, it } from '@jest/globals'
import { parseImage } from '../../../src/inputs/image.js'
import { isTransient, registryError } from '../../../src/publish/oras/errors.js'
import { parsePushOutput } from '../../../src/publish/oras/output.js'
import { PINNED_SHA256, orasAsset, parseOrasChecksums } from '../../../src/publish/oras/releases.js'
import { DEFAULT_ORAS_VERSION } from '../../../src/inputs/inputs.js'
import { ORAS_VERSION as TESTS_ORAS_VERSION } from '../../support/oras-release.js'

describe('oras release data', () => {
  it('names the official assets per platform', () => {
    const a = orasAsset('1.3.2', 'linux', 'x64', 'https://example.test/dl/')
    expect(a).toMatchObject({
      name: 'oras_1.3.2_linux_amd64.tar.gz',
      url: 'https://example.test/dl/v1.3.2/oras_1.3.2_linux_amd64.tar.gz',
      checksumsUrl: 'https://example.test/dl/v1.3.2/oras_1.3.2_checksums.txt',
      binary: 'oras'
    })
    expect(orasAsset('1.3.2', 'win32', 'x64', 'b')).toMatchObject({
      name: 'oras_1.3.2_windows_amd64.zip',
      binary: 'oras.exe'
    })
    expect(orasAsset('1.3.2', 'darwin', 'arm64', 'b').name).toBe('oras_1.3.2_darwin_arm64.tar.gz')
    expect(orasAsset('1.2.0', 'linux', 'arm', 'b').name).toBe('oras_1.2.0_linux_armv7.tar.gz')
  })

  it('pins every official 1.3.2 asset it names', () => {
    for (const [platform, arch] of [
      ['linux', 'x64'],
      ['linux', 'arm64'],
      ['darwin', 'x64'],
      ['darwin', 'arm64'],
      ['win32', 'x64']
    ] as const) {
      expect(PINNED_SHA256[orasAsset('1.3.2', platform, arch, 'b').name]).toMatch(/^[0-9a-f]{64}$/)
    }
  })

  it('installs by default an oras with oras-go 2.6.2’s security fixes (1.3.3 or newer), pinned on Linux', () => {
    const [major, minor, patch] = DEFAULT_ORAS_VERSION.split('.').map(Number)
    expect(major! * 1e6 + minor! * 1e3 + patch!).toBeGreaterThanOrEqual(1_003_003)
    for (const arch of ['x64', 'arm64'] as const) {
      expect(PINNED_SHA256[orasAsset(DEFAULT_ORAS_VERSION, 'linux', arch, 'b').name]).toMatch(
        /^[0-9a-f]{64}$/
      )
    }
  })

  it('has one default: src/ and action.yml name the same oras version', () => {
    expect(TESTS_ORAS_VERSION).toBe(DEFAULT_ORAS_VERSION)
  })

  it('lists the supported platforms for an unsupported one', () => {
    expect(() => orasAsset('1.3.2', 'aix', 'ppc', 'b')).toThrow(
      'oras has no build for aix/ppc; supported: linux, darwin, win32, freebsd on x64, arm64, arm, s390x, ppc64, riscv64, loong64'
    )
  })

  it('reads the release’s checksums file', () => {
    const sums = parseOrasChecksums(
      `${'a'.repeat(64)}  oras_1.3.1_linux_amd64.tar.gz\n\n${'B'.repeat(64)}  oras_1.3.1_windows_amd64.zip\n`
    )
    expect(sums.get('oras_1.3.1_windows_amd64.zip')).toBe('b'.repeat(64))
    expect(sums.size).toBe(2)
  })
})

describe('oras push output', () => {
  it('reads the digest from --format json', () => {
    const digest = `sha256:${'c'.repeat(64)}`
    expect(parsePushOutput(JSON.stringify({ reference: `r@${digest}`, digest, size: 9 }))).toEqual({
      reference: `r@${digest}`,
      digest,
      size: 9
    })
  })

  it.each(['', 'Pushed [registry] x', '{"digest":"md5:1"}', '{not json'])('refuses %j', out => {
    expect(() => parsePushOutput(out)).toThrow('oras push printed no JSON result with a digest')
  })

  it('retries server failures and dropped connections, not refusals', () => {
    expect(isTransient('Error: failed: response status code 500: internal server error')).toBe(true)
    expect(isTransient('Error: Post "http://x/v2/": read tcp: connection reset by peer')).toBe(true)
    expect(isTransient('Error: dial tcp 127.0.0.1:1: connect: connection refused')).toBe(true)
    expect(
      isTransient('Error: response status code 401: unauthorized: authentication required')
    ).toBe(false)
    expect(isTransient('Error: response status code 400: manifest invalid')).toBe(false)
    // A JSON error body is printed by its codes alone, without the status.
    expect(isTransient('Error response from registry: unknown: unknown error')).toBe(true)
    expect(isTransient('Error response from registry: toomanyrequests: slow down')).toBe(true)
    expect(isTransient('Error response from registry: unavailable: maintenance')).toBe(true)
    expect(
      isTransient(
        'Error response from registry: failed to fetch the content of "r:t": manifest unknown: manifest unknown'
      )
    ).toBe(false)
    expect(
      isTransient(
        'Error response from registry: denied: requested access to the resource is denied'
      )
    ).toBe(false)
    // Two parallel pushes of one blob can lose it in the registry; pushing again heals that.
    expect(
      isTransient(
        'Error response from registry: failed to perform "PushReference" on destination: digest invalid: provided digest did not match uploaded content; manifest blob unknown: blob unknown to registry: sha256:44136f'
      )
    ).toBe(true)
  })

  it('explains authentication and permission failures for GHCR', () => {
    const ghcr = parseImage('ghcr.io/o/r')
    expect(
      registryError(ghcr, 'me', 'push to', 'Error: response status code 401: unauthorized').message
    ).toBe(
      'ghcr.io rejected the credentials of "me" (401 unauthorized) on push to ghcr.io/o/r: check username and password (GITHUB_TOKEN works for the repository\'s own packages)'
    )
    expect(
      registryError(
        ghcr,
        'me',
        'push to',
        'Error: response status code 403: denied: permission_denied'
      ).message
    ).toContain('the workflow needs `permissions: packages: write`')
  })

  it('says that no credentials were given, not that they were rejected, for an anonymous push', () => {
    const ghcr = parseImage('ghcr.io/o/r')
    const unauthorized = registryError(
      ghcr,
      'octocat',
      'push to',
      'Error response from registry: unauthorized: authentication required',
      1,
      true
    ).message
    expect(unauthorized).toMatch(
      /^ghcr\.io requires credentials to push ghcr\.io\/o\/r and none were given \(password is empty\): set username and password \(password: \$\{\{ secrets.GITHUB_TOKEN \}\}, with `permissions: packages: write`\); /
    )
    const denied = registryError(
      ghcr,
      'octocat',
      'push to',
      'Error response from registry: denied: requested access to the resource is denied',
      1,
      true
    ).message
    expect(denied).toMatch(
      /^ghcr\.io denied push to ghcr\.io\/o\/r \(403\) to a client without credentials \(password is empty\): set username and password/
    )
    for (const message of [unauthorized, denied]) {
      expect(message).not.toContain('octocat')
      expect(message).not.toContain('rejected')
    }
  })
})
