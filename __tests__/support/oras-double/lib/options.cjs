'use strict'
// Option handling shared by commands: image spec, passwords, headers, the registry client.

const fs = require('node:fs')
const { configFiles, lookupCredential } = require('./credentials.cjs')
const { CLIError, cliError } = require('./errors.cjs')
const { goQuote } = require('./go.cjs')
const { RegistryClient } = require('./http.cjs')
const { out } = require('./output.cjs')

function imageSpec(values, changed) {
  const flag = values['image-spec']
  if (flag !== 'v1.1' && flag !== 'v1.0') {
    throw cliError(`unknown image specification flag: ${flag}`, {
      recommendation: 'Available options: v1.1, v1.0'
    })
  }
  return { flag, version: flag === 'v1.1' ? '1.1' : '1.0', changed: changed.has('image-spec') }
}

function parseFormat(values, allowed) {
  const raw = values.format || ''
  let type = raw
  let template = values.template || ''
  if (raw.startsWith('go-template=')) {
    type = 'go-template'
    template = raw.slice('go-template='.length)
  }
  if (type === '') type = allowed[0]
  if (type === 'go-template' && template === '') {
    throw cliError(`${goQuote(type)} format specified but no template given`, {
      recommendation: `use \`--format ${type}=TEMPLATE\` to specify the template`
    })
  }
  if (!allowed.includes(type)) {
    throw cliError(`invalid format type: ${goQuote(raw)}`, {
      recommendation: `supported types: ${allowed.join(', ')}`
    })
  }
  return { type, template }
}

function readPasswordOptions(values) {
  if (values.password !== '') {
    out.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n')
  } else if (values['password-stdin']) {
    let data = ''
    try {
      data = fs.readFileSync(0, 'utf8')
    } catch (e) {
      if (e.code !== 'EAGAIN' && e.code !== 'EOF') throw new CLIError(e.message)
    }
    values.password = data.replace(/\n$/, '').replace(/\r$/, '')
  }
}

function validateHeaders(values) {
  const headers = {}
  for (const h of values.header || []) {
    const c = h.indexOf(':')
    if (c < 0 || h.slice(0, c).trim() === '') throw new CLIError(`invalid header: ${goQuote(h)}`)
    headers[h.slice(0, c)] = h.slice(c + 1)
  }
  return headers
}

function isPlainHTTP(values, changed, registry) {
  if (changed.has('plain-http')) return values['plain-http']
  const host = registry.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  if (host === 'localhost') return true
  return values['plain-http']
}

function newClient(values, changed, registry, scopeHints) {
  const files = configFiles(values)
  const flagCred = values.username || values.password
  const customHeaders = validateHeaders(values)
  const client = new RegistryClient({
    plainHTTP: isPlainHTTP(values, changed, registry),
    insecure: values.insecure,
    scopeHints,
    credential: host => {
      if (flagCred) {
        if (values.username === '')
          return { username: '', password: '', refreshToken: values.password, accessToken: '' }
        return {
          username: values.username,
          password: values.password,
          refreshToken: '',
          accessToken: ''
        }
      }
      return lookupCredential(files, host === 'registry-1.docker.io' ? 'docker.io' : host)
    }
  })
  client.customHeaders = customHeaders
  client.configPath = flagCred ? null : files[0]
  return client
}

module.exports = { imageSpec, newClient, parseFormat, readPasswordOptions, validateHeaders }
