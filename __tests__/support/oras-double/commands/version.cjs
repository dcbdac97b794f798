'use strict'
// oras version

const { GIT_COMMIT, GO_VERSION, VERSION } = require('../lib/constants.cjs')
const { goQuote } = require('../lib/go.cjs')
const { out } = require('../lib/output.cjs')

const versionCmd = {
  name: 'version',
  use: 'version',
  short: 'Show the oras version information',
  long: 'Show the oras version information\n\nExample - print version:\n  oras version\n',
  flags: [],
  async run(p) {
    if (p.args.length)
      out.err(
        `warning: \`oras version\` requires no argument, ${goQuote(p.args.join(','))} will be ignored\n`
      )
    const goArch = {
      x64: 'amd64',
      arm64: 'arm64',
      arm: 'arm',
      ia32: '386',
      s390x: 's390x',
      ppc64: 'ppc64le',
      riscv64: 'riscv64',
      loong64: 'loong64'
    }
    const goOS = { win32: 'windows', darwin: 'darwin', linux: 'linux', freebsd: 'freebsd' }
    const items = [
      ['Version', VERSION],
      ['Go version', GO_VERSION],
      [
        'OS/Arch',
        `${goOS[process.platform] || process.platform}/${goArch[process.arch] || process.arch}`
      ],
      ['Git commit', GIT_COMMIT],
      ['Git tree state', 'clean']
    ]
    const size = Math.max(...items.map(i => i[0].length))
    for (const [k, v] of items) out.raw(`${k}: ${' '.repeat(size - k.length)}${v}\n`)
    return 0
  }
}

module.exports = { versionCmd }
