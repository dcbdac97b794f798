'use strict'
// oras logout

const {
  configFiles,
  readConfigFile,
  serverAddressFromRegistry,
  writeConfigFile
} = require('../lib/credentials.cjs')
const { COMMON_FLAGS, checkArgs } = require('../lib/flags.cjs')

const logoutCmd = {
  name: 'logout',
  use: 'logout [flags] <registry>',
  short: 'Log out from a remote registry',
  long: 'Log out from a remote registry\n\nExample - Logout:\n  oras logout localhost:5000\n',
  flags: [
    ...COMMON_FLAGS,
    {
      name: 'registry-config',
      type: 'stringArray',
      usage: '`path` of the authentication file for registry'
    }
  ],
  async run(p) {
    checkArgs(this, 'oras logout', p.args, 'exactly', 1, 'the registry to log out from')
    const server = serverAddressFromRegistry(p.args[0])
    const file = configFiles(p.values)[0]
    const cfg = readConfigFile(file)
    if (cfg.auths && typeof cfg.auths === 'object' && cfg.auths[server] !== undefined) {
      delete cfg.auths[server]
      writeConfigFile(file, cfg)
    }
    return 0
  }
}

module.exports = { logoutCmd }
