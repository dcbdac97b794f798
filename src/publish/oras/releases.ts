/**
 * What the oras project publishes, kept apart from the code that installs it (as setup-oras
 * keeps its release data). Figures of official release assets; other platforms and versions are
 * verified against the release's own checksums file.
 */
export const ORAS_RELEASES_URL = 'https://github.com/oras-project/oras/releases/download'

/** Mirrors of the oras releases (same layout) can be named here; tests point it at loopback. */
export const ORAS_MIRROR_ENV = 'HOOK_BUNDLE_ORAS_MIRROR'

export const PINNED_SHA256: Readonly<Record<string, string>> = {
  'oras_1.3.2_linux_amd64.tar.gz':
    '9229ccc6d17bb282039ad4a69abb16dcb887a5bce567c075d731d9b3c7ad8eaf',
  'oras_1.3.2_linux_arm64.tar.gz':
    '8db4a223bd6034deff198e791ea7cb3af0840df25b7e9f370e2f1f3fd20d389b',
  'oras_1.3.2_darwin_amd64.tar.gz':
    '2621f6b252b222f6fbf4e114d2fcaa0cec6b632624ffaf73143f66e4e0994f86',
  'oras_1.3.2_darwin_arm64.tar.gz':
    '7929f792cf272268412375ecad6f0fb3c20f164368d5b57966e67ad6d36eca53',
  'oras_1.3.2_windows_amd64.zip':
    'c896f26245f11e6385d52010bb0a65a4e500e1f3244680a6556ed05462fa1c0d',
  // 1.3.3 and 1.3.4: each figure is corroborated by two or more independent public pins.
  'oras_1.3.3_linux_amd64.tar.gz':
    '9ce999f8d2de03fc03968b29d743077a58783e545e5eaa53917ca177352d0e59',
  'oras_1.3.3_linux_arm64.tar.gz':
    'ac7156f93a21e903f7ad606c792f3560f17e0cd0e36365634701b1e7cc4e4eca',
  'oras_1.3.3_darwin_arm64.tar.gz':
    'f33fc12753c54172b0d0d19eaa0318d3f90fe9b094d96e8b259c881713c92e1c',
  'oras_1.3.4_linux_amd64.tar.gz':
    'f27adb935022d94df8dc77719c322dda592c78a0d57a6f7dcdd8d900b248c454',
  'oras_1.3.4_linux_arm64.tar.gz':
    '15702c6e3a4a56a8bd8ac5c17efdbcab56d9bada661ccbcf017f5b10c1d89399'
}

const OS: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'linux',
  darwin: 'darwin',
  win32: 'windows',
  freebsd: 'freebsd'
}

const ARCH: Partial<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'armv7',
  s390x: 's390x',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  loong64: 'loong64'
}

export interface OrasAsset {
  os: string
  arch: string
  name: string
  url: string
  checksumsUrl: string
  /** Binary name inside the archive. */
  binary: string
  format: 'tar.gz' | 'zip'
}

export class UnsupportedPlatformError extends Error {}

export function orasAsset(
  version: string,
  platform: NodeJS.Platform,
  arch: string,
  base: string
): OrasAsset {
  const os = OS[platform]
  const a = ARCH[arch]
  if (os === undefined || a === undefined) {
    throw new UnsupportedPlatformError(
      `oras has no build for ${platform}/${arch}; supported: ${Object.keys(OS).join(', ')} on ${Object.keys(ARCH).join(', ')} (give oras-url and oras-checksum for anything else)`
    )
  }
  const format = os === 'windows' ? 'zip' : 'tar.gz'
  const name = `oras_${version}_${os}_${a}.${format}`
  const root = `${base.replace(/\/+$/, '')}/v${version}`
  return {
    os,
    arch: a,
    name,
    url: `${root}/${name}`,
    checksumsUrl: `${root}/oras_${version}_checksums.txt`,
    binary: os === 'windows' ? 'oras.exe' : 'oras',
    format
  }
}

/** `oras_<V>_checksums.txt`: `<sha256>  <asset>` per line. */
export function parseOrasChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/.exec(line.trim())
    if (m) sums.set(m[2]!, m[1]!.toLowerCase())
  }
  return sums
}
