'use strict'
// The docker config file credential store (--registry-config).

const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')
const { CLIError } = require('./errors.cjs')
const { goJSON } = require('./go.cjs')

function defaultConfigPath() {
  const dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker')
  return path.join(dir, 'config.json')
}

function readConfigFile(file) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if (e.code === 'ENOENT') return {}
    throw new CLIError(`failed to open config file at ${file}: ${e.message}`)
  }
  if (text.trim() === '') return {}
  try {
    const v = JSON.parse(text)
    return v && typeof v === 'object' ? v : {}
  } catch (e) {
    throw new CLIError(
      `failed to decode config file at ${file}: invalid config format: ${e.message}`
    )
  }
}

function toHostname(addr) {
  let a = addr
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(a)
  if (m) a = a.slice(m[0].length)
  const slash = a.indexOf('/')
  if (slash >= 0) a = a.slice(0, slash)
  return a
}

function serverAddressFromRegistry(registry) {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry
}

function lookupCredential(files, registry) {
  const server = serverAddressFromRegistry(registry)
  for (const file of files) {
    const cfg = readConfigFile(file)
    const auths = cfg.auths && typeof cfg.auths === 'object' ? cfg.auths : {}
    let entry = auths[server]
    if (!entry) {
      for (const k of Object.keys(auths)) {
        if (toHostname(k) === server) {
          entry = auths[k]
          break
        }
      }
    }
    if (!entry) continue
    const cred = { username: '', password: '', refreshToken: '', accessToken: '' }
    if (entry.auth) {
      const decoded = Buffer.from(String(entry.auth), 'base64').toString('utf8')
      const c = decoded.indexOf(':')
      if (c < 0)
        throw new CLIError(
          `failed to get credential from config file: invalid auth configuration file: invalid auth field`
        )
      cred.username = decoded.slice(0, c)
      cred.password = decoded.slice(c + 1)
    } else {
      if (entry.username) cred.username = String(entry.username)
      if (entry.password) cred.password = String(entry.password)
    }
    if (entry.identitytoken) cred.refreshToken = String(entry.identitytoken)
    if (entry.registrytoken) cred.accessToken = String(entry.registrytoken)
    return cred
  }
  return null
}

function indentGo(value, level) {
  return goJSON(value, '\t', level)
}

function writeConfigFile(file, cfg) {
  const top = {}
  for (const k of Object.keys(cfg).sort()) top[k] = cfg[k]
  const auths = cfg.auths || {}
  const sortedAuths = {}
  for (const k of Object.keys(auths).sort()) sortedAuths[k] = auths[k]
  if (cfg.auths !== undefined) top.auths = sortedAuths
  const text = indentGo(top, 0)
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 })
  const tmp = path.join(
    path.dirname(path.resolve(file)),
    `.oras-config-${process.pid}-${Date.now()}`
  )
  fs.writeFileSync(tmp, text, { mode: 0o600 })
  fs.renameSync(tmp, file)
}

function configFiles(values) {
  const files = values['registry-config'] || []
  if (files.length > 0) return files
  return [defaultConfigPath()]
}

module.exports = {
  configFiles,
  lookupCredential,
  readConfigFile,
  serverAddressFromRegistry,
  writeConfigFile
}
