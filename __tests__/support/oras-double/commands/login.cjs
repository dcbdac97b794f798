'use strict'
// oras login

const fs = require('node:fs')
const { REGISTRY_ERROR_PREFIX } = require('../lib/constants.cjs')
const {
  configFiles,
  readConfigFile,
  serverAddressFromRegistry,
  writeConfigFile
} = require('../lib/credentials.cjs')
const { CLIError, errorResponse, trimErrResp, wrapErr } = require('../lib/errors.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags } = require('../lib/flags.cjs')
const { goQuote } = require('../lib/go.cjs')
const { newClient, readPasswordOptions } = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { validRegistry } = require('../lib/reference.cjs')

function readStdinLine() {
  const buf = Buffer.alloc(1)
  let s = ''
  for (;;) {
    let n
    try {
      n = fs.readSync(0, buf, 0, 1, null)
    } catch (e) {
      if (e.code === 'EAGAIN') continue
      if (e.code === 'EOF') break
      throw e
    }
    if (n === 0) break
    const ch = buf.toString('utf8')
    if (ch === '\n') break
    s += ch
  }
  return s.replace(/\r$/, '')
}

const loginCmd = {
  name: 'login',
  use: 'login [flags] <registry>',
  short: 'Log in to a remote registry',
  long: 'Log in to a remote registry\n\nExample - Log in with username and password from command line flags:\n  oras login -u username -p password localhost:5000\n\nExample - Log in with username and password from stdin:\n  oras login -u username --password-stdin localhost:5000\n\nExample - Log in with identity token from command line flags:\n  oras login -p token localhost:5000\n\nExample - Log in with identity token from stdin:\n  oras login --password-stdin localhost:5000\n\nExample - Log in with username and password in an interactive terminal:\n  oras login localhost:5000\n\nExample - Log in with username and password in an interactive terminal and no TLS check:\n  oras login --insecure localhost:5000\n',
  flags: [...COMMON_FLAGS, ...remoteFlags(true)],
  async run(p) {
    const v = p.values
    checkArgs(this, 'oras login', p.args, 'exactly', 1, 'the registry to log in to')
    readPasswordOptions(v)
    const hostname = p.args[0]
    if (v.password === '') {
      if (v.username === '') {
        out.raw('Username: ')
        v.username = readStdinLine().trim()
      }
      if (v.username === '') {
        out.raw('Token: ')
        v.password = readStdinLine()
        if (v.password === '') throw new CLIError('token required')
      } else {
        out.raw('Password: ')
        v.password = readStdinLine()
        if (v.password === '') throw new CLIError('password required')
      }
    }
    const registry = parseReferenceLoose(hostname)
    if (!validRegistry(registry))
      throw new CLIError(`invalid reference: invalid registry ${goQuote(registry)}`)
    const client = newClient(v, p.changed, registry, [])
    const files = configFiles(v)
    const url = `${client.base(registry)}/v2/`
    try {
      const res = await client.request('GET', url)
      if (res.status === 404) {
        const e = new CLIError(`${url}: not found`)
        e.notFound = true
        throw e
      }
      if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
    } catch (e) {
      const w = wrapErr(`failed to validate the credentials for ${registry}: `, e)
      if (w.errResp)
        throw Object.assign(new CLIError(trimErrResp(w)), { prefix: REGISTRY_ERROR_PREFIX })
      throw w
    }
    const server = serverAddressFromRegistry(registry)
    const file = files[0]
    const cfg = readConfigFile(file)
    if (!cfg.auths || typeof cfg.auths !== 'object') cfg.auths = {}
    const prev = cfg.auths[server] && typeof cfg.auths[server] === 'object' ? cfg.auths[server] : {}
    const entry = Object.assign({}, prev)
    delete entry.username
    delete entry.password
    delete entry.auth
    delete entry.identitytoken
    if (v.username) entry.auth = Buffer.from(`${v.username}:${v.password}`).toString('base64')
    else entry.identitytoken = v.password
    const ordered = {}
    for (const k of ['auth', 'identitytoken', 'registrytoken'])
      if (entry[k] !== undefined) ordered[k] = entry[k]
    for (const k of Object.keys(entry)) if (ordered[k] === undefined) ordered[k] = entry[k]
    cfg.auths[server] = ordered
    try {
      writeConfigFile(file, cfg)
    } catch (e) {
      throw new CLIError(`failed to store the credentials for ${server}: ${e.message}`)
    }
    out.print('Login Succeeded')
    return 0
  }
}

function parseReferenceLoose(hostname) {
  // remote.NewRegistry parses "<registry>" only
  return hostname
}

module.exports = { loginCmd }
