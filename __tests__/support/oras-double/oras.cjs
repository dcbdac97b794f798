#!/usr/bin/env node
'use strict'
// oras 1.3.2 (linux/amd64 build of the CLI, re-created on node builtins).

const fs = require('node:fs')
const fsp = require('node:fs/promises')
const path = require('node:path')
const os = require('node:os')
const http = require('node:http')
const https = require('node:https')
const nodeCrypto = require('node:crypto')
const zlib = require('node:zlib')
const { pipeline } = require('node:stream/promises')

const VERSION = '1.3.2'
const GO_VERSION = 'go1.25.5'
const GIT_COMMIT = 'e2cf6f6a1b4dd7f1436b4bbcb9d3f1d6dd0b4f0a'
const USER_AGENT = 'oras/' + VERSION

const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const MT_INDEX = 'application/vnd.oci.image.index.v1+json'
const MT_EMPTY = 'application/vnd.oci.empty.v1+json'
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar'
const MT_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
const MT_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json'
const MT_UNKNOWN_CONFIG = 'application/vnd.unknown.config.v1+json'
const MT_UNKNOWN_ARTIFACT = 'application/vnd.unknown.artifact.v1'
const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const MANIFEST_TYPES = [MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_MANIFEST, MT_INDEX]
const ANNOTATION_TITLE = 'org.opencontainers.image.title'
const ANNOTATION_CREATED = 'org.opencontainers.image.created'
const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name'
const ANNOTATION_DIGEST = 'io.deis.oras.content.digest'
const ANNOTATION_UNPACK = 'io.deis.oras.content.unpack'
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
const REGISTRY_ERROR_PREFIX = 'Error response from registry:'

// ---------------------------------------------------------------------------------------------
// errors

class CLIError extends Error {
  constructor(message, extra) {
    super(message)
    Object.assign(this, extra || {})
  }
}

// Wrap err the way fmt.Errorf("<prefix>%w", err) does, keeping what the error handlers inspect.
function wrapErr(prefix, err) {
  const e = new CLIError(prefix + err.message)
  for (const k of ['errResp', 'notFound', 'basicCredNotFound', 'usageErr']) {
    if (err[k] !== undefined) e[k] = err[k]
  }
  return e
}

function copyError(op, origin, err) {
  return wrapErr(`failed to perform ${goQuote(op)} on ${origin}: `, err)
}

// oerrors.Error: message, then "Usage: ..." and a recommendation on further lines.
function cliError(message, { usage, recommendation } = {}) {
  let m = message
  if (usage) m += `\nUsage: ${usage}`
  if (recommendation) m += `\n${recommendation}`
  return new CLIError(m)
}

const STATUS_TEXT = Object.assign({}, http.STATUS_CODES, {
  413: 'Request Entity Too Large',
  414: 'Request URI Too Long',
  416: 'Requested Range Not Satisfiable'
})

function goQuote(s) {
  let out = '"'
  for (const ch of String(s)) {
    const c = ch.codePointAt(0)
    if (ch === '"' || ch === '\\') out += '\\' + ch
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
    else out += ch
  }
  return out + '"'
}

// Go's %v of a decoded JSON value.
function goFmtV(v) {
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return '[' + v.map(goFmtV).join(' ') + ']'
  if (typeof v === 'object') {
    return (
      'map[' +
      Object.keys(v)
        .sort()
        .map(k => `${k}:${goFmtV(v[k])}`)
        .join(' ') +
      ']'
    )
  }
  return String(v)
}

function errcodeText(errors) {
  const one = e => {
    const code = String(e.code || '')
      .replace(/_/g, ' ')
      .toLowerCase()
    if (!e.message) return code
    if (e.detail === undefined || e.detail === null) return `${code}: ${e.message}`
    return `${code}: ${e.message}: ${goFmtV(e.detail)}`
  }
  if (errors.length === 0) return '<nil>'
  return errors.map(one).join('; ')
}

// errutil.ParseErrorResponse + errcode.ErrorResponse.Error()
function errorResponse(method, url, status, body) {
  let errors = []
  try {
    const parsed = JSON.parse(body.toString('utf8'))
    if (parsed && Array.isArray(parsed.errors))
      errors = parsed.errors.filter(e => e && typeof e === 'object')
  } catch {
    // not an error body
  }
  const errmsg = errors.length > 0 ? errcodeText(errors) : STATUS_TEXT[status] || ''
  const text = `${method} ${goQuote(url)}: response status code ${status}: ${errmsg}`
  const e = new CLIError(text)
  e.errResp = { method, url, status, errors, text }
  return e
}

function trimErrResp(err) {
  const r = err.errResp
  if (r.errors.length === 0) return `recognizable error message not found: ${r.text}`
  const idx = err.message.indexOf(r.text)
  const inner = errcodeText(r.errors)
  if (idx > 0) return err.message.slice(0, idx) + inner
  return inner
}

// ---------------------------------------------------------------------------------------------
// Go-compatible JSON

function goJSONString(s) {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)
    switch (ch) {
      case '"':
        out += '\\"'
        break
      case '\\':
        out += '\\\\'
        break
      case '\n':
        out += '\\n'
        break
      case '\r':
        out += '\\r'
        break
      case '\t':
        out += '\\t'
        break
      case '\b':
        out += '\\b'
        break
      case '\f':
        out += '\\f'
        break
      case '<':
        out += '\\u003c'
        break
      case '>':
        out += '\\u003e'
        break
      case '&':
        out += '\\u0026'
        break
      case '\u2028':
        out += '\\u2028'
        break
      case '\u2029':
        out += '\\u2029'
        break
      default:
        if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0')
        else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd'
        else out += ch
    }
  }
  return out + '"'
}

// Objects are written in insertion order; callers build them in Go field order and mark Go
// maps (sorted keys) with sortedMap().
const SORTED = Symbol('sorted')
function sortedMap(obj) {
  const o = Object.assign({}, obj)
  Object.defineProperty(o, SORTED, { value: true, enumerable: false })
  return o
}

function goJSON(v, indent, level = 0) {
  const nl = indent ? '\n' + indent.repeat(level + 1) : ''
  const end = indent ? '\n' + indent.repeat(level) : ''
  const sep = indent ? ': ' : ':'
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string') return goJSONString(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    return '[' + v.map(x => nl + goJSON(x, indent, level + 1)).join(',') + end + ']'
  }
  let keys = Object.keys(v).filter(k => v[k] !== undefined)
  if (v[SORTED]) keys = keys.sort()
  if (keys.length === 0) return '{}'
  return (
    '{' +
    keys.map(k => nl + goJSONString(k) + sep + goJSON(v[k], indent, level + 1)).join(',') +
    end +
    '}'
  )
}

// ocispec.Descriptor in Go field order.
function descJSONValue(d) {
  const o = { mediaType: d.mediaType, digest: d.digest, size: d.size }
  if (d.urls && d.urls.length) o.urls = d.urls
  if (d.annotations && Object.keys(d.annotations).length) o.annotations = sortedMap(d.annotations)
  if (d.data) o.data = d.data
  if (d.platform) o.platform = d.platform
  if (d.artifactType) o.artifactType = d.artifactType
  return o
}

function sha256Hex(buf) {
  return nodeCrypto.createHash('sha256').update(buf).digest('hex')
}

function shortDigest(desc) {
  return desc.digest.slice(desc.digest.indexOf(':') + 1, desc.digest.indexOf(':') + 13)
}

// ---------------------------------------------------------------------------------------------
// output

const out = {
  lines: [],
  print(...parts) {
    process.stdout.write(parts.join(' ') + '\n')
  },
  raw(s) {
    process.stdout.write(s)
  },
  err(s) {
    process.stderr.write(s)
  }
}

function printStatus(printer, desc, status) {
  const title = desc.annotations && desc.annotations[ANNOTATION_TITLE]
  if (title !== undefined) out.print(status, shortDigest(desc), title)
  else if (printer.verbose) out.print(status, shortDigest(desc), desc.mediaType)
}

let debugEnabled = false
let debugCounter = 0
function debugLog(text) {
  if (!debugEnabled) return
  const ts = new Date().toISOString()
  out.err(`[${ts}][DEBUG]: ${text}\n`)
}

// ---------------------------------------------------------------------------------------------
// flag parsing (pflag semantics)

function flagDefs(list) {
  const byName = new Map()
  const byShort = new Map()
  for (const f of list) {
    byName.set(f.name, f)
    if (f.short) byShort.set(f.short, f)
  }
  return { list, byName, byShort }
}

const COMMON_FLAGS = [
  { name: 'debug', short: 'd', type: 'bool', usage: 'output debug logs (implies --no-tty)' },
  { name: 'no-tty', type: 'bool', usage: '[Preview] do not show progress output' }
]
const HELP_FLAG = { name: 'help', short: 'h', type: 'bool', usage: 'help for %s' }

function remoteFlags(withStdin) {
  const f = [
    { name: 'username', short: 'u', type: 'string', usage: 'registry username' },
    { name: 'password', short: 'p', type: 'string', usage: 'registry password or identity token' },
    { name: 'insecure', type: 'bool', usage: 'allow connections to SSL registry without certs' },
    {
      name: 'plain-http',
      type: 'bool',
      usage: 'allow insecure connections to registry without SSL check'
    },
    {
      name: 'ca-file',
      type: 'string',
      usage: 'server certificate authority file for the remote registry'
    },
    {
      name: 'cert-file',
      type: 'string',
      usage: '[Preview] client certificate file for the remote registry'
    },
    {
      name: 'key-file',
      type: 'string',
      usage: '[Preview] client private key file for the remote registry'
    },
    {
      name: 'resolve',
      type: 'stringArray',
      usage: 'customized DNS for registry, formatted in `host:port:address[:address_port]`'
    },
    {
      name: 'registry-config',
      type: 'stringArray',
      usage: '`path` of the authentication file for registry'
    },
    { name: 'header', short: 'H', type: 'stringArray', usage: 'add custom headers to requests' }
  ]
  if (withStdin)
    f.push({
      name: 'password-stdin',
      type: 'bool',
      usage: 'read password or identity token from stdin'
    })
  return f
}

function targetFlags() {
  return [
    { name: 'oci-layout', type: 'bool', usage: 'set target as an OCI image layout' },
    {
      name: 'oci-layout-path',
      type: 'string',
      usage: 'set the path for the OCI image layout target'
    }
  ]
}

function parseFlags(cmd, argv) {
  const defs = flagDefs([...cmd.flags, HELP_FLAG])
  const values = {}
  const changed = new Set()
  const positional = []
  for (const f of defs.list) {
    if (f.type === 'stringArray') values[f.name] = []
    else if (f.default !== undefined) values[f.name] = f.default
    else if (f.type === 'bool') values[f.name] = false
    else if (f.type === 'int') values[f.name] = 0
    else values[f.name] = ''
  }
  const setValue = (f, raw, display) => {
    if (f.type === 'bool') {
      const v = parseGoBool(raw)
      if (v === undefined) {
        throw new CLIError(
          `invalid argument ${goQuote(raw)} for ${goQuote(display)} flag: strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`
        )
      }
      values[f.name] = v
    } else if (f.type === 'int') {
      if (!/^[+-]?\d+$/.test(raw)) {
        throw new CLIError(
          `invalid argument ${goQuote(raw)} for ${goQuote(display)} flag: strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`
        )
      }
      values[f.name] = parseInt(raw, 10)
    } else if (f.type === 'stringArray') {
      values[f.name].push(raw)
    } else {
      values[f.name] = raw
    }
    changed.add(f.name)
    if (f.deprecated) out.err(`Flag --${f.name} has been deprecated, ${f.deprecated}\n`)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--') && a.length > 2) {
      const body = a.slice(2)
      const eq = body.indexOf('=')
      const name = eq >= 0 ? body.slice(0, eq) : body
      const f = defs.byName.get(name)
      if (!f) throw new CLIError(`unknown flag: --${name}`)
      if (eq >= 0) setValue(f, body.slice(eq + 1), '--' + name)
      else if (f.type === 'bool') setValue(f, 'true', '--' + name)
      else if (i + 1 < argv.length) setValue(f, argv[++i], '--' + name)
      else throw new CLIError(`flag needs an argument: --${name}`)
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      let shorts = a.slice(1)
      while (shorts.length > 0) {
        const c = shorts[0]
        const f = defs.byShort.get(c)
        if (!f) throw new CLIError(`unknown shorthand flag: '${c}' in -${shorts}`)
        if (shorts.length > 2 && shorts[1] === '=') {
          setValue(f, shorts.slice(2), '-' + c)
          shorts = ''
        } else if (f.type === 'bool') {
          setValue(f, 'true', '-' + c)
          shorts = shorts.slice(1)
        } else if (shorts.length > 1) {
          setValue(f, shorts.slice(1), '-' + c)
          shorts = ''
        } else if (i + 1 < argv.length) {
          setValue(f, argv[++i], '-' + c)
          shorts = ''
        } else {
          throw new CLIError(`flag needs an argument: '${c}' in -${c}`)
        }
      }
      continue
    }
    positional.push(a)
  }
  return { values, changed, args: positional }
}

function parseGoBool(s) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  return undefined
}

function helpText(cmd, pathName) {
  const lines = []
  lines.push((cmd.long || cmd.short).replace(/\n+$/, ''))
  lines.push('')
  lines.push('Usage:')
  lines.push(`  ${pathName.split(' ').slice(0, -1).concat([cmd.use]).join(' ')}`)
  const flags = [...cmd.flags, HELP_FLAG]
    .filter(f => !f.hidden && !f.deprecated)
    .sort((a, b) => a.name.localeCompare(b.name))
  const left = flags.map(f => {
    const t =
      f.type === 'bool'
        ? ''
        : f.type === 'int'
          ? ' int'
          : f.type === 'stringArray'
            ? ' stringArray'
            : ' string'
    return (f.short ? `  -${f.short}, ` : '      ') + `--${f.name}${t}`
  })
  const width = Math.max(...left.map(l => l.length))
  lines.push('')
  lines.push('Flags:')
  flags.forEach((f, i) => {
    let usage = f.usage.replace('%s', pathName.split(' ').pop())
    if (f.default !== undefined && f.default !== false && f.default !== '') {
      usage += f.type === 'string' ? ` (default ${goQuote(f.default)})` : ` (default ${f.default})`
    }
    lines.push(left[i].padEnd(width + 3) + usage)
  })
  return lines.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------
// references

const REPO_RE =
  /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$/
const TAG_RE = /^[\w][\w.-]{0,127}$/
const DIGEST_RE = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/

function invalidRef(msg) {
  return new CLIError(`invalid reference: ${msg}`)
}

function validRegistry(reg) {
  if (reg === '' || /[\s/?#@]/.test(reg)) return false
  try {
    const u = new URL('dummy://' + reg)
    return u.host.toLowerCase() === reg.toLowerCase() || u.host === reg
  } catch {
    return false
  }
}

function parseReference(raw) {
  const slash = raw.indexOf('/')
  if (slash < 0) throw invalidRef('missing registry or repository')
  const registry = raw.slice(0, slash)
  const rest = raw.slice(slash + 1)
  let repository
  let reference = ''
  let isTag = false
  const at = rest.indexOf('@')
  if (at >= 0) {
    repository = rest.slice(0, at)
    reference = rest.slice(at + 1)
    const colon = repository.indexOf(':')
    if (colon >= 0) repository = repository.slice(0, colon)
  } else if (rest.indexOf(':') >= 0) {
    const colon = rest.indexOf(':')
    isTag = true
    repository = rest.slice(0, colon)
    reference = rest.slice(colon + 1)
  } else {
    repository = rest
  }
  if (!validRegistry(registry)) throw invalidRef(`invalid registry ${goQuote(registry)}`)
  if (!REPO_RE.test(repository)) throw invalidRef(`invalid repository ${goQuote(repository)}`)
  if (reference !== '') {
    if (isTag) {
      if (!TAG_RE.test(reference)) throw invalidRef(`invalid tag ${goQuote(reference)}`)
    } else if (!DIGEST_RE.test(reference)) {
      throw invalidRef(`invalid digest ${goQuote(reference)}: invalid checksum digest format`)
    }
  }
  return { registry, repository, reference, isDigest: !isTag && reference !== '' }
}

function isDigestRef(s) {
  return DIGEST_RE.test(s)
}

// fileref.Parse (unix)
function parseFileRef(ref, defaultMeta) {
  const i = ref.lastIndexOf(':')
  let filePath = ref
  let meta = defaultMeta
  if (i >= 0) {
    filePath = ref.slice(0, i)
    meta = ref.slice(i + 1)
  }
  if (filePath === '') throw new CLIError(`found empty file path in ${goQuote(ref)}`)
  return { filePath, meta }
}

// filepath.Clean
function goClean(p) {
  if (p === '') return '.'
  let c = path.posix.normalize(p)
  if (c.length > 1 && c.endsWith('/')) c = c.slice(0, -1)
  return c
}

// ---------------------------------------------------------------------------------------------
// credentials (docker config file store)

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

// ---------------------------------------------------------------------------------------------
// HTTP: retry transport + auth client, as the oras-go remote client stacks them

const agents = []
function makeAgent(isHttps, insecure) {
  const opts = { keepAlive: true, maxSockets: 32 }
  if (isHttps) opts.rejectUnauthorized = !insecure
  const a = isHttps ? new https.Agent(opts) : new http.Agent(opts)
  agents.push(a)
  return a
}

function retryScale() {
  const v = parseFloat(process.env.ORAS_DOUBLE_RETRY_SCALE || '')
  return Number.isFinite(v) && v >= 0 ? v : 1
}

// retry.DefaultPolicy: 5 retries, exponential backoff 250ms*2^n +/-10%, clamped [200ms, 3s].
const RETRY_POLICY = { maxRetry: 5, minWait: 200, maxWait: 3000, base: 250, factor: 2, jitter: 0.1 }

function backoffMs(attempt, res) {
  if (res && res.status === 429) {
    const ra = parseInt(String(res.headers['retry-after'] || ''), 10)
    if (ra > 0) return Math.min(Math.max(ra * 1000, RETRY_POLICY.minWait), RETRY_POLICY.maxWait)
  }
  const temp = RETRY_POLICY.base * Math.pow(RETRY_POLICY.factor, attempt)
  let interval = temp * (1 - RETRY_POLICY.jitter)
  const range = Math.floor(2 * RETRY_POLICY.jitter * temp)
  if (range > 0) interval += Math.floor(Math.random() * range)
  return Math.min(Math.max(interval, RETRY_POLICY.minWait), RETRY_POLICY.maxWait)
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function goMethod(m) {
  return m.charAt(0) + m.slice(1).toLowerCase()
}

function netErrorText(err, url, socketInfo) {
  const code = err.code || ''
  const u = new URL(url)
  const hostPort = u.port ? u.host : `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}`
  if (code === 'ECONNREFUSED') return `dial tcp ${hostPort}: connect: connection refused`
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `dial tcp: lookup ${u.hostname}: no such host`
  if (code === 'ETIMEDOUT') return `dial tcp ${hostPort}: i/o timeout`
  if (code === 'EHOSTUNREACH') return `dial tcp ${hostPort}: connect: no route to host`
  if (code === 'ENETUNREACH') return `dial tcp ${hostPort}: connect: network is unreachable`
  if (
    /wrong version number|packet length too long|unknown protocol|WRONG_VERSION_NUMBER/i.test(
      err.message || ''
    ) ||
    code === 'EPROTO'
  ) {
    return 'http: server gave HTTP response to HTTPS client'
  }
  if (
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  ) {
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority'
  }
  if (code === 'CERT_HAS_EXPIRED')
    return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `tls: failed to verify certificate: x509: certificate is valid for other names, not ${u.hostname}`
  if (code === 'ECONNRESET') {
    if (socketInfo && socketInfo.local)
      return `read tcp ${socketInfo.local}->${hostPort}: read: connection reset by peer`
    return 'EOF'
  }
  if (code === 'EPIPE')
    return `write tcp ${socketInfo && socketInfo.local ? socketInfo.local : '127.0.0.1:0'}->${hostPort}: write: broken pipe`
  return err.message || String(err)
}

function isTimeout(err) {
  return err.code === 'ETIMEDOUT' || err.code === 'ESOCKETTIMEDOUT'
}

// One HTTP exchange. body: undefined | Buffer | { open(): Readable, length }
function sendOnce(client, method, url, headers, body) {
  return new Promise(resolve => {
    const u = new URL(url)
    const isHttps = u.protocol === 'https:'
    const mod = isHttps ? https : http
    const h = Object.assign({ 'User-Agent': USER_AGENT }, headers)
    if (body !== undefined) {
      h['Content-Length'] = String(Buffer.isBuffer(body) ? body.length : body.length)
    }
    const reqNo = debugCounter++
    if (debugEnabled) {
      const hdrs = Object.entries(h)
        .map(
          ([k, v]) =>
            `   ${goQuote(k)}: ${goQuote(k.toLowerCase() === 'authorization' ? '*****' : v)}`
        )
        .join('\n')
      debugLog(
        `--> Request #${reqNo}\n> Request URL: ${goQuote(url)}\n> Request method: ${goQuote(method)}\n> Request headers:\n${hdrs}\n`
      )
    }
    const socketInfo = {}
    const req = mod.request(
      url,
      { method, headers: h, agent: isHttps ? client.httpsAgent : client.httpAgent },
      res => {
        const chunks = []
        res.on('data', c => chunks.push(c))
        res.on('end', () => {
          const resBody = Buffer.concat(chunks)
          if (debugEnabled) {
            const hdrs = Object.entries(res.headers)
              .map(
                ([k, v]) =>
                  `   ${goQuote(k.replace(/(^|-)([a-z])/g, (_, a, b) => a + b.toUpperCase()))}: ${goQuote(k === 'set-cookie' ? '*****' : String(v))}`
              )
              .join('\n')
            debugLog(
              `<-- Response #${reqNo}\n< Response Status: ${goQuote(`${res.statusCode} ${STATUS_TEXT[res.statusCode] || ''}`)}\n< Response headers:\n${hdrs}\n`
            )
          }
          resolve({ status: res.statusCode, headers: res.headers, body: resBody, url, method })
        })
        res.on('error', err => resolve({ error: err, socketInfo }))
      }
    )
    req.on('socket', s => {
      const set = () => {
        if (s.localAddress) socketInfo.local = `${s.localAddress}:${s.localPort}`
      }
      if (s.connecting) s.once('connect', set)
      else set()
    })
    req.on('error', err => resolve({ error: err, socketInfo }))
    if (body === undefined) req.end()
    else if (Buffer.isBuffer(body)) req.end(body)
    else {
      const stream = body.open()
      stream.on('error', err => req.destroy(err))
      stream.pipe(req)
    }
  })
}

// retry.Transport.RoundTrip
async function roundTrip(client, method, url, headers, body) {
  const rewindable = body === undefined || Buffer.isBuffer(body)
  for (let attempt = 0; ; attempt++) {
    const r = await sendOnce(client, method, url, headers, body)
    let retry = false
    if (r.error) {
      retry = isTimeout(r.error)
    } else if (r.status === 408 || r.status === 429 || r.status === 0 || r.status >= 500) {
      retry = true
    }
    if (!retry || attempt >= RETRY_POLICY.maxRetry || !rewindable) {
      if (r.error) {
        throw new CLIError(
          `${goMethod(method)} ${goQuote(url)}: ${netErrorText(r.error, url, r.socketInfo)}`
        )
      }
      return r
    }
    await sleep(backoffMs(attempt, r.error ? undefined : r) * retryScale())
  }
}

function parseChallenge(header) {
  if (!header) return { scheme: '', params: {} }
  const m = /^\s*(\S+)\s*(.*)$/.exec(header)
  if (!m) return { scheme: '', params: {} }
  const scheme = m[1].toLowerCase()
  const params = {}
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g
  let mm
  while ((mm = re.exec(m[2])) !== null) {
    params[mm[1].toLowerCase()] = mm[2] !== undefined ? mm[2].replace(/\\(.)/g, '$1') : mm[3]
  }
  return { scheme, params }
}

function cleanScopes(scopes) {
  const byResource = new Map()
  for (const s of scopes) {
    if (!s) continue
    const i = s.lastIndexOf(':')
    if (i < 0) {
      byResource.set(s, null)
      continue
    }
    const res = s.slice(0, i)
    const actions = s
      .slice(i + 1)
      .split(',')
      .filter(Boolean)
    if (!byResource.has(res)) byResource.set(res, new Set())
    const set = byResource.get(res)
    if (set) for (const a of actions) set.add(a)
  }
  const outScopes = []
  for (const [res, set] of byResource) {
    if (set === null) outScopes.push(res)
    else if (set.has('*')) outScopes.push(`${res}:*`)
    else outScopes.push(`${res}:${[...set].sort().join(',')}`)
  }
  return outScopes.sort()
}

class RegistryClient {
  constructor(opts) {
    this.plainHTTP = opts.plainHTTP
    this.insecure = opts.insecure
    this.credential = opts.credential // (host) => cred | null
    this.scopeHints = opts.scopeHints || []
    this.cache = new Map() // host -> { scheme, tokens: Map }
    this.httpAgent = makeAgent(false, false)
    this.httpsAgent = makeAgent(true, this.insecure)
  }

  base(host) {
    return `${this.plainHTTP ? 'http' : 'https'}://${host}`
  }

  async fetchBasic(host, resMethod, resURL) {
    const cred = this.credential(host)
    if (!cred || (!cred.username && !cred.password && !cred.refreshToken && !cred.accessToken)) {
      const e = new CLIError(`${resMethod} ${goQuote(resURL)}: basic credential not found`)
      e.basicCredNotFound = { inner: `${resMethod} ${goQuote(resURL)}: basic credential not found` }
      throw e
    }
    if (!cred.username || !cred.password) {
      throw new CLIError(
        `${resMethod} ${goQuote(resURL)}: missing username or password for basic auth`
      )
    }
    return Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
  }

  async fetchBearer(host, realm, service, scopes, resMethod, resURL) {
    const cred = this.credential(host) || {
      username: '',
      password: '',
      refreshToken: '',
      accessToken: ''
    }
    if (cred.accessToken) return cred.accessToken
    const u = new URL(realm)
    const q = new URLSearchParams(u.search)
    if (service) q.append('service', service)
    for (const s of scopes) q.append('scope', s)
    let tokenURL = realm.split('?')[0] + (q.toString() ? '?' + goQueryEncode(q) : '')
    const headers = {}
    let method = 'GET'
    let body
    if (cred.refreshToken) {
      method = 'POST'
      const form = new URLSearchParams()
      form.set('grant_type', 'refresh_token')
      form.set('refresh_token', cred.refreshToken)
      if (service) form.set('service', service)
      form.set('client_id', 'oras')
      if (scopes.length) form.set('scope', scopes.join(' '))
      body = Buffer.from(goQueryEncode(form))
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      tokenURL = realm
    } else if (cred.username || cred.password) {
      headers.Authorization =
        'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
    }
    let r
    try {
      r = await roundTrip(this, method, tokenURL, headers, body)
    } catch (e) {
      throw wrapErr(`${resMethod} ${goQuote(resURL)}: `, e)
    }
    if (r.status !== 200)
      throw wrapErr(
        `${resMethod} ${goQuote(resURL)}: `,
        errorResponse(method, tokenURL, r.status, r.body)
      )
    let parsed
    try {
      parsed = JSON.parse(r.body.toString('utf8'))
    } catch (e) {
      throw new CLIError(
        `${resMethod} ${goQuote(resURL)}: ${method} ${goQuote(tokenURL)}: failed to decode response: ${e.message}`
      )
    }
    if (parsed && parsed.access_token) return parsed.access_token
    if (parsed && parsed.token) return parsed.token
    throw new CLIError(
      `${resMethod} ${goQuote(resURL)}: ${method} ${goQuote(tokenURL)}: empty token returned`
    )
  }

  // auth.Client.Do
  async request(method, url, { headers = {}, body, scopes = [] } = {}) {
    const host = new URL(url).host
    const entry = this.cache.get(host)
    const h = Object.assign({}, headers)
    const allScopes = cleanScopes([...this.scopeHints, ...scopes])
    let attemptedKey = null
    if (entry) {
      if (entry.scheme === 'basic' && entry.tokens.has(''))
        h.Authorization = 'Basic ' + entry.tokens.get('')
      if (entry.scheme === 'bearer') {
        attemptedKey = allScopes.join(' ')
        if (entry.tokens.has(attemptedKey))
          h.Authorization = 'Bearer ' + entry.tokens.get(attemptedKey)
      }
    }
    const rewindable = body === undefined || Buffer.isBuffer(body)
    const res = await roundTrip(this, method, url, h, body)
    if (res.status !== 401) return res
    const { scheme, params } = parseChallenge(String(res.headers['www-authenticate'] || ''))
    const h2 = Object.assign({}, headers)
    if (scheme === 'basic') {
      const token = await this.fetchBasic(host, method, url)
      this.cache.set(host, { scheme: 'basic', tokens: new Map([['', token]]) })
      h2.Authorization = 'Basic ' + token
    } else if (scheme === 'bearer') {
      let sc = allScopes
      if (params.scope) sc = cleanScopes([...sc, ...params.scope.split(' ')])
      const key = sc.join(' ')
      let e = this.cache.get(host)
      if (!e || e.scheme !== 'bearer') {
        e = { scheme: 'bearer', tokens: new Map() }
        this.cache.set(host, e)
      }
      if (key !== attemptedKey && e.tokens.has(key)) {
        if (!rewindable) throw new CLIError(`${method} ${goQuote(url)}: unsupported`)
        const h3 = Object.assign({}, headers, { Authorization: 'Bearer ' + e.tokens.get(key) })
        const r3 = await roundTrip(this, method, url, h3, body)
        if (r3.status !== 401) return r3
      }
      const token = await this.fetchBearer(
        host,
        params.realm || '',
        params.service || '',
        sc,
        method,
        url
      )
      e.tokens.set(key, token)
      h2.Authorization = 'Bearer ' + token
    } else {
      return res
    }
    if (!rewindable) throw new CLIError(`${method} ${goQuote(url)}: unsupported`)
    return roundTrip(this, method, url, h2, body)
  }
}

// url.Values.Encode: keys sorted, QueryEscape.
function goQueryEscape(s) {
  let o = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b)
    if (/[A-Za-z0-9\-_.~]/.test(ch)) o += ch
    else if (ch === ' ') o += '+'
    else o += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return o
}
function goQueryEncode(params) {
  const keys = [...new Set([...params.keys()])].sort()
  const parts = []
  for (const k of keys)
    for (const v of params.getAll(k)) parts.push(goQueryEscape(k) + '=' + goQueryEscape(v))
  return parts.join('&')
}

// ---------------------------------------------------------------------------------------------
// remote repository (oras-go registry/remote)

class RemoteRepository {
  constructor(client, ref) {
    this.client = client
    this.registry = ref.registry
    this.repository = ref.repository
    this.base = `${client.base(ref.registry)}/v2/${ref.repository}`
  }

  pullScope() {
    return [`repository:${this.repository}:pull`]
  }
  pushScope() {
    return [`repository:${this.repository}:pull,push`]
  }

  async resolveManifest(reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('HEAD', url, {
      headers: { Accept: MANIFEST_TYPES.join(', ') },
      scopes: this.pullScope()
    })
    if (res.status === 200) {
      const mediaType = String(res.headers['content-type'] || '')
        .split(';')[0]
        .trim()
      const digest = String(
        res.headers['docker-content-digest'] || (isDigestRef(reference) ? reference : '')
      )
      const size = parseInt(String(res.headers['content-length'] || '0'), 10)
      return { mediaType, digest, size }
    }
    if (res.status === 404) {
      const e = new CLIError(`${reference}: not found`)
      e.notFound = true
      throw e
    }
    throw errorResponse('HEAD', url, res.status, res.body)
  }

  async manifestExists(desc) {
    try {
      await this.resolveManifest(desc.digest)
      return true
    } catch (e) {
      if (e.notFound) return false
      throw e
    }
  }

  async fetchManifest(reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('GET', url, {
      headers: { Accept: MANIFEST_TYPES.join(', ') },
      scopes: this.pullScope()
    })
    if (res.status === 404) {
      const e = new CLIError(`${reference}: not found`)
      e.notFound = true
      throw e
    }
    if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
    const mediaType = String(res.headers['content-type'] || '')
      .split(';')[0]
      .trim()
    const digest = 'sha256:' + sha256Hex(res.body)
    return { desc: { mediaType, digest, size: res.body.length }, content: res.body }
  }

  async blobExists(desc) {
    const url = `${this.base}/blobs/${desc.digest}`
    const res = await this.client.request('HEAD', url, { scopes: this.pullScope() })
    if (res.status === 200) return true
    if (res.status === 404) return false
    throw errorResponse('HEAD', url, res.status, res.body)
  }

  async fetchBlob(desc) {
    let url = `${this.base}/blobs/${desc.digest}`
    let res = await this.client.request('GET', url, { scopes: this.pullScope() })
    for (let i = 0; i < 5 && [301, 302, 303, 307, 308].includes(res.status); i++) {
      url = new URL(String(res.headers.location), url).toString()
      res = await roundTrip(this.client, 'GET', url, {}, undefined)
    }
    if (res.status === 404) {
      const e = new CLIError(`${desc.digest}: not found`)
      e.notFound = true
      throw e
    }
    if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
    return res.body
  }

  // blobStore.Push: POST for an upload session, then a monolithic PUT streaming the content.
  async pushBlob(desc, body) {
    const postURL = `${this.base}/blobs/uploads/`
    const res = await this.client.request('POST', postURL, { scopes: this.pushScope() })
    if (res.status !== 202) throw errorResponse('POST', postURL, res.status, res.body)
    const loc = res.headers.location
    if (!loc) throw new CLIError(`${goMethod('POST')} ${goQuote(postURL)}: missing Location header`)
    const location = new URL(String(loc), postURL)
    const q = new URLSearchParams(location.search)
    q.set('digest', desc.digest)
    const putURL = `${location.protocol}//${location.host}${location.pathname}?${goQueryEncode(q)}`
    const headers = { 'Content-Type': 'application/octet-stream' }
    const put = await this.client.request('PUT', putURL, {
      headers,
      body,
      scopes: this.pushScope()
    })
    if (put.status !== 201) throw errorResponse('PUT', putURL, put.status, put.body)
  }

  async pushManifest(desc, content, reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('PUT', url, {
      headers: { 'Content-Type': desc.mediaType },
      body: content,
      scopes: this.pushScope()
    })
    if (res.status !== 201) throw errorResponse('PUT', url, res.status, res.body)
    const got = res.headers['docker-content-digest']
    if (got && String(got) !== desc.digest) {
      throw new CLIError(
        `PUT ${goQuote(url)}: invalid response; digest mismatch in Docker-Content-Digest: received ${goQuote(String(got))} when expecting ${goQuote(desc.digest)}`
      )
    }
  }

  async tags() {
    const all = []
    let url = `${this.base}/tags/list`
    for (;;) {
      const res = await this.client.request('GET', url, { scopes: this.pullScope() })
      if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
      const body = JSON.parse(res.body.toString('utf8') || '{}')
      all.push(...(body.tags || []))
      const link = res.headers.link
      const m = link ? /<([^>]+)>/.exec(String(link)) : null
      if (!m) break
      url = new URL(m[1], url).toString()
    }
    return all
  }
}

// ---------------------------------------------------------------------------------------------
// OCI image layout store (oras-go content/oci)

class OCILayoutStore {
  constructor(root, create) {
    this.root = path.resolve(root)
    this.indexPath = path.join(this.root, 'index.json')
    if (create) {
      fs.mkdirSync(path.join(this.root, 'blobs'), { recursive: true })
      const layoutFile = path.join(this.root, 'oci-layout')
      if (!fs.existsSync(layoutFile)) fs.writeFileSync(layoutFile, '{"imageLayoutVersion":"1.0.0"}')
    }
    this.tagged = new Map() // tag -> desc
    this.untagged = new Map() // digest -> desc
    this.extra = {}
    if (fs.existsSync(this.indexPath)) {
      let index
      try {
        index = JSON.parse(fs.readFileSync(this.indexPath, 'utf8'))
      } catch (e) {
        throw new CLIError(`invalid OCI Image Index: failed to decode index file: ${e.message}`)
      }
      for (const d of index.manifests || []) {
        const name = d.annotations && d.annotations[ANNOTATION_REF_NAME]
        if (name) {
          const copy = Object.assign({}, d, { annotations: Object.assign({}, d.annotations) })
          delete copy.annotations[ANNOTATION_REF_NAME]
          if (Object.keys(copy.annotations).length === 0) delete copy.annotations
          this.tagged.set(name, copy)
        } else {
          this.untagged.set(d.digest, d)
        }
      }
    } else if (create) {
      this.saveIndex()
    } else {
      throw new CLIError(
        `invalid OCI Image Index: failed to open index file: open ${this.indexPath}: no such file or directory`
      )
    }
  }

  blobPath(digest) {
    const [alg, hex] = digest.split(':')
    return path.join(this.root, 'blobs', alg, hex)
  }

  exists(desc) {
    return fs.existsSync(this.blobPath(desc.digest))
  }

  async push(desc, body) {
    const p = this.blobPath(desc.digest)
    if (fs.existsSync(p)) return
    fs.mkdirSync(path.dirname(p), { recursive: true })
    const tmp = p + `.tmp-${process.pid}`
    if (Buffer.isBuffer(body)) fs.writeFileSync(tmp, body)
    else await pipeline(body.open(), fs.createWriteStream(tmp))
    fs.renameSync(tmp, p)
    if (MANIFEST_TYPES.includes(desc.mediaType)) {
      if (![...this.tagged.values()].some(d => d.digest === desc.digest))
        this.untagged.set(desc.digest, desc)
      this.saveIndex()
    }
  }

  tag(desc, ref) {
    if (!this.exists(desc)) {
      const e = new CLIError(`${desc.digest}: ${desc.mediaType}: not found`)
      e.notFound = true
      throw e
    }
    if (ref !== desc.digest) {
      this.tagged.set(ref, desc)
      this.untagged.delete(desc.digest)
    }
    this.saveIndex()
  }

  resolve(ref) {
    if (this.tagged.has(ref)) return this.tagged.get(ref)
    for (const d of [...this.tagged.values(), ...this.untagged.values()]) {
      if (d.digest === ref) return { mediaType: d.mediaType, digest: d.digest, size: d.size }
    }
    const e = new CLIError(`${ref}: not found`)
    e.notFound = true
    throw e
  }

  read(desc) {
    return fs.readFileSync(this.blobPath(desc.digest))
  }

  saveIndex() {
    const manifests = []
    for (const [ref, d] of this.tagged) {
      const ann = Object.assign({}, d.annotations || {}, { [ANNOTATION_REF_NAME]: ref })
      manifests.push(descJSONValue(Object.assign({}, d, { annotations: ann })))
    }
    const taggedDigests = new Set([...this.tagged.values()].map(d => d.digest))
    for (const [dg, d] of this.untagged)
      if (!taggedDigests.has(dg)) manifests.push(descJSONValue(d))
    const index = { schemaVersion: 2, mediaType: MT_INDEX, manifests }
    fs.writeFileSync(this.indexPath, goJSON(index))
  }

  tags() {
    return [...this.tagged.keys()].sort()
  }
}

// ---------------------------------------------------------------------------------------------
// tar (directories are packed as tar+gzip layers, as oras-go's file store does)

function tarHeader(name, { mode, size, mtime, type, linkname = '' }) {
  const h = Buffer.alloc(512)
  const put = (s, off, len) => Buffer.from(s, 'utf8').copy(h, off, 0, len)
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0'
  put(name.slice(0, 100), 0, 100)
  put(oct(mode & 0o7777, 8), 100, 8)
  put(oct(0, 8), 108, 8)
  put(oct(0, 8), 116, 8)
  put(oct(size, 12), 124, 12)
  put(oct(Math.floor(mtime), 12), 136, 12)
  h.fill(' ', 148, 156)
  put(type, 156, 1)
  put(linkname.slice(0, 100), 157, 100)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of h) sum += b
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return h
}

function paxRecord(key, value) {
  const rest = ` ${key}=${value}\n`
  let len = Buffer.byteLength(rest) + 1
  while (String(len).length + Buffer.byteLength(rest) !== len)
    len = String(len).length + Buffer.byteLength(rest)
  return `${len}${rest}`
}

async function writeTarEntry(ws, name, st, type, linkname, filePath) {
  const write = buf => new Promise((res, rej) => ws.write(buf, err => (err ? rej(err) : res())))
  const size = type === '0' ? st.size : 0
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100) {
    let pax = paxRecord('path', name)
    if (linkname) pax += paxRecord('linkpath', linkname)
    const paxBuf = Buffer.from(pax)
    await write(
      tarHeader('PaxHeaders.0/' + path.posix.basename(name).slice(0, 80), {
        mode: 0o644,
        size: paxBuf.length,
        mtime: st.mtimeMs / 1000,
        type: 'x'
      })
    )
    await write(paxBuf)
    if (paxBuf.length % 512) await write(Buffer.alloc(512 - (paxBuf.length % 512)))
  }
  await write(tarHeader(name, { mode: st.mode, size, mtime: st.mtimeMs / 1000, type, linkname }))
  if (type === '0') {
    for await (const chunk of fs.createReadStream(filePath)) await write(chunk)
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)))
  }
}

async function tarDirectory(dir, prefix, ws) {
  const walk = async (abs, rel) => {
    const st = await fsp.lstat(abs)
    const name = rel
    if (st.isDirectory()) {
      await writeTarEntry(ws, name + '/', st, '5', '', abs)
      const entries = (await fsp.readdir(abs)).sort()
      for (const e of entries) await walk(path.join(abs, e), name + '/' + e)
    } else if (st.isSymbolicLink()) {
      await writeTarEntry(ws, name, st, '2', await fsp.readlink(abs), abs)
    } else if (st.isFile()) {
      await writeTarEntry(ws, name, st, '0', '', abs)
    }
  }
  await walk(dir, prefix)
  await new Promise((res, rej) => ws.write(Buffer.alloc(1024), err => (err ? rej(err) : res())))
}

async function packDirectory(dir, name) {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oras_file_'))
  cleanupPaths.push(tmpDir)
  const gzPath = path.join(tmpDir, 'content.tar.gz')
  const tarHash = nodeCrypto.createHash('sha256')
  const gzHash = nodeCrypto.createHash('sha256')
  let gzSize = 0
  const gz = zlib.createGzip()
  const fileOut = fs.createWriteStream(gzPath)
  gz.on('data', c => {
    gzHash.update(c)
    gzSize += c.length
  })
  const { PassThrough } = require('node:stream')
  const tarStream = new PassThrough()
  tarStream.on('data', c => tarHash.update(c))
  const done = pipeline(tarStream, gz, fileOut)
  await tarDirectory(dir, name, tarStream)
  tarStream.end()
  await done
  return {
    path: gzPath,
    digest: 'sha256:' + gzHash.digest('hex'),
    size: gzSize,
    tarDigest: 'sha256:' + tarHash.digest('hex')
  }
}

function parseTar(buf) {
  const entries = []
  let off = 0
  let paxPath
  let longName
  const str = (b, s, l) => {
    const sub = b.subarray(s, s + l)
    const z = sub.indexOf(0)
    return sub.subarray(0, z < 0 ? sub.length : z).toString('utf8')
  }
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512)
    if (h.every(b => b === 0)) break
    let name = str(h, 0, 100)
    const prefix = str(h, 345, 155)
    if (prefix && str(h, 257, 6).startsWith('ustar')) name = prefix + '/' + name
    const mode = parseInt(str(h, 100, 8).trim() || '0', 8)
    const size = parseInt(str(h, 124, 12).trim() || '0', 8)
    const type = String.fromCharCode(h[156] || 48)
    const linkname = str(h, 157, 100)
    const data = buf.subarray(off + 512, off + 512 + size)
    off += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') {
      const text = data.toString('utf8')
      const m = /\d+ path=([^\n]*)\n/.exec(text)
      if (m) paxPath = m[1]
      continue
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '')
      continue
    }
    if (type === 'g') continue
    if (paxPath) name = paxPath
    else if (longName) name = longName
    paxPath = undefined
    longName = undefined
    entries.push({ name, mode, type, linkname, data })
  }
  return entries
}

function extractTarGz(buf, outDir, allowTraversal) {
  const entries = parseTar(zlib.gunzipSync(buf))
  const root = path.resolve(outDir)
  for (const e of entries) {
    const target = path.resolve(root, e.name)
    if (!allowTraversal && target !== root && !target.startsWith(root + path.sep)) {
      throw new CLIError(`${e.name}: path traversal disallowed`)
    }
    if (e.type === '5') fs.mkdirSync(target, { recursive: true })
    else if (e.type === '2') {
      fs.mkdirSync(path.dirname(target), { recursive: true })
      try {
        fs.unlinkSync(target)
      } catch {
        // not there
      }
      fs.symlinkSync(e.linkname, target)
    } else if (e.type === '0' || e.type === '\0' || e.type === '7') {
      fs.mkdirSync(path.dirname(target), { recursive: true })
      fs.writeFileSync(target, e.data, { mode: e.mode & 0o777 })
    }
  }
}

const cleanupPaths = []
function cleanup() {
  for (const p of cleanupPaths.splice(0)) {
    try {
      fs.rmSync(p, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
}

// ---------------------------------------------------------------------------------------------
// pack (oras-go PackManifest)

const MEDIA_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/

function validateMediaType(mt) {
  if (!MEDIA_TYPE_RE.test(mt)) throw new CLIError(`${mt}: invalid media type`)
}

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

function ensureCreated(annotations) {
  const a = Object.assign({}, annotations || {})
  if (Object.prototype.hasOwnProperty.call(a, ANNOTATION_CREATED)) {
    const v = a[ANNOTATION_CREATED]
    const m = RFC3339_RE.exec(v)
    const bad =
      !m ||
      +m[2] < 1 ||
      +m[2] > 12 ||
      +m[3] < 1 ||
      +m[3] > 31 ||
      +m[4] > 23 ||
      +m[5] > 59 ||
      +m[6] > 60
    if (bad) {
      throw new CLIError(
        `invalid date and time format: parsing time ${goQuote(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${goQuote(v)} as "2006"`
      )
    }
    return a
  }
  a[ANNOTATION_CREATED] = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  return a
}

function serializeManifest(m) {
  const o = { schemaVersion: 2, mediaType: m.mediaType }
  if (m.artifactType) o.artifactType = m.artifactType
  o.config = descJSONValue(m.config)
  o.layers = m.layers.map(descJSONValue)
  if (m.annotations && Object.keys(m.annotations).length) o.annotations = sortedMap(m.annotations)
  return Buffer.from(goJSON(o))
}

function packManifest(version, artifactType, opts) {
  const blobs = new Map() // digest -> Buffer, for in-memory content
  let config
  let layers = opts.layers
  let rootArtifactType
  if (version === '1.1') {
    if (!artifactType && (!opts.configDesc || opts.configDesc.mediaType === MT_EMPTY)) {
      throw new CLIError('missing artifact type')
    }
    if (artifactType) validateMediaType(artifactType)
    if (opts.configDesc) {
      validateMediaType(opts.configDesc.mediaType)
      config = opts.configDesc
    } else {
      config = { mediaType: MT_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' }
      if (opts.configAnnotations && Object.keys(opts.configAnnotations).length)
        config.annotations = opts.configAnnotations
      blobs.set(EMPTY_JSON_DIGEST, Buffer.from('{}'))
    }
    if (layers.length === 0) {
      layers = [{ mediaType: MT_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' }]
      blobs.set(EMPTY_JSON_DIGEST, Buffer.from('{}'))
    }
    rootArtifactType = artifactType
  } else {
    if (opts.configDesc) {
      validateMediaType(opts.configDesc.mediaType)
      config = opts.configDesc
    } else {
      const mt = artifactType || MT_UNKNOWN_CONFIG
      if (artifactType) validateMediaType(artifactType)
      const bytes = Buffer.from('{}')
      config = { mediaType: mt, digest: 'sha256:' + sha256Hex(bytes), size: 2 }
      if (opts.configAnnotations && Object.keys(opts.configAnnotations).length)
        config.annotations = opts.configAnnotations
      blobs.set(config.digest, bytes)
    }
    rootArtifactType = config.mediaType
  }
  const annotations = ensureCreated(opts.manifestAnnotations)
  const manifest = {
    mediaType: MT_MANIFEST,
    artifactType: version === '1.1' ? artifactType : undefined,
    config,
    layers,
    annotations
  }
  const content = serializeManifest(manifest)
  const root = {
    mediaType: MT_MANIFEST,
    digest: 'sha256:' + sha256Hex(content),
    size: content.length,
    annotations,
    artifactType: rootArtifactType || undefined
  }
  blobs.set(root.digest, content)
  return { root, content, manifest, blobs }
}

// ---------------------------------------------------------------------------------------------
// concurrency

async function runLimited(items, limit, fn) {
  const n = Math.max(1, limit)
  let next = 0
  let failed = null
  const worker = async () => {
    while (failed === null && next < items.length) {
      const i = next++
      try {
        await fn(items[i], i)
      } catch (e) {
        if (failed === null) failed = e
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  if (failed) throw failed
}

// ---------------------------------------------------------------------------------------------
// option handling shared by commands

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

// option.Target.Modify + cobra's error printing
function handleTargetError(err, ctx) {
  if (ctx && ctx.isOCILayout) return { prefix: 'Error:', message: err.message }
  if (err.basicCredNotFound) {
    const inner = err.basicCredNotFound.inner
    const idx = err.message.indexOf(inner)
    const msg = (idx > 0 ? err.message.slice(0, idx) : '') + 'basic credential not found'
    const where = ctx && ctx.configPath ? ` at ${goQuote(ctx.configPath)} ` : ' '
    return {
      prefix: 'Error:',
      message: `${msg}\nPlease check whether the registry credential stored in the authentication file${where}is correct`
    }
  }
  if (err.notFound) return { prefix: REGISTRY_ERROR_PREFIX, message: err.message }
  if (err.errResp) {
    const host = new URL(err.errResp.url).host
    if (!ctx || !ctx.registry || host === ctx.registry) {
      return { prefix: REGISTRY_ERROR_PREFIX, message: trimErrResp(err) }
    }
  }
  return { prefix: 'Error:', message: err.message }
}

// ---------------------------------------------------------------------------------------------
// commands

function usageOf(cmd, pathName) {
  return `${pathName.split(' ').slice(0, -1).join(' ')} ${cmd.use}`
}

function checkArgs(cmd, pathName, args, kind, n, what) {
  const ok = kind === 'exactly' ? args.length === n : args.length >= n
  if (!ok) {
    const text = `${kind} ${n} argument${n === 1 ? '' : 's'}`
    throw cliError(`${goQuote(pathName)} requires ${text} but got ${args.length}`, {
      usage: usageOf(cmd, pathName),
      recommendation: `Please specify ${text} as ${what}. Run "${pathName} -h" for more options and examples`
    })
  }
}

// --- version

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

// --- login / logout

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

// --- push

const pushCmd = {
  name: 'push',
  use: 'push [flags] <name>[:<tag>[,<tag>][...]] <file>[:<type>] [...]',
  short: 'Push files to a registry or an OCI image layout',
  long: 'Push files to a registry or an OCI image layout\n\nExample - Push file "hi.txt" with media type "application/vnd.oci.image.layer.v1.tar" (default):\n  oras push localhost:5000/hello:v1 hi.txt\n\nExample - Push file "hi.txt" and export the pushed manifest to a specified path:\n  oras push --export-manifest manifest.json localhost:5000/hello:v1 hi.txt\n\nExample - Push file "hi.txt" with the custom media type "application/vnd.me.hi":\n  oras push localhost:5000/hello:v1 hi.txt:application/vnd.me.hi\n\nExample - Push multiple files with different media types:\n  oras push localhost:5000/hello:v1 hi.txt:application/vnd.me.hi bye.txt:application/vnd.me.bye\n\nExample - Push file with colon in name "hi:txt" with the default media type:\n  oras push localhost:5000/hello:v1 hi:txt:\n\nExample - Push file "hi.txt" with artifact type "application/vnd.example+type":\n  oras push --artifact-type application/vnd.example+type localhost:5000/hello:v1 hi.txt\n\nExample - Push file "hi.txt" with config type "application/vnd.me.config":\n  oras push --image-spec v1.0 --artifact-type application/vnd.me.config localhost:5000/hello:v1 hi.txt\n\nExample - Push file "hi.txt" with the custom manifest config "config.json" of the custom media type "application/vnd.me.config":\n  oras push --config config.json:application/vnd.me.config localhost:5000/hello:v1 hi.txt\n\nExample - [Experimental] Push file "hi.txt" and format output in JSON:\n  oras push localhost:5000/hello:v1 hi.txt --format json\n\nExample - [Experimental] Push file "hi.txt" and format output with Go template:\n  oras push localhost:5000/hello:v1 hi.txt --format go-template="{{.digest}}"\n\nExample - Push file to the insecure registry:\n  oras push --insecure localhost:5000/hello:v1 hi.txt\n\nExample - Push file to the HTTP registry:\n  oras push --plain-http localhost:5000/hello:v1 hi.txt\n\nExample - Push repository with manifest annotations:\n  oras push --annotation "key=val" localhost:5000/hello:v1\n\nExample - Push repository with manifest annotation file:\n  oras push --annotation-file annotation.json localhost:5000/hello:v1\n\nExample - [Experimental] Push artifact to repository with platform:\n  oras push --artifact-platform linux/arm/v5 localhost:5000/hello:v1\n\nExample - Push file "hi.txt" with multiple tags:\n  oras push localhost:5000/hello:tag1,tag2,tag3 hi.txt\n\nExample - Push file "hi.txt" with multiple tags and concurrency level tuned:\n  oras push --concurrency 6 localhost:5000/hello:tag1,tag2,tag3 hi.txt\n\nExample - Push file "hi.txt" into an OCI image layout folder \'layout-dir\' with tag \'test\':\n  oras push --oci-layout layout-dir:test hi.txt\n',
  flags: [
    ...COMMON_FLAGS,
    { name: 'config', type: 'string', usage: '`path` of image config file' },
    { name: 'artifact-type', type: 'string', usage: 'artifact type' },
    { name: 'concurrency', type: 'int', default: 5, usage: 'concurrency level' },
    {
      name: 'verbose',
      short: 'v',
      type: 'bool',
      default: true,
      usage: 'print status output for unnamed blobs',
      deprecated: 'and will be removed in a future release.'
    },
    { name: 'annotation', short: 'a', type: 'stringArray', usage: 'manifest annotations' },
    { name: 'export-manifest', type: 'string', usage: '`path` of the pushed manifest' },
    { name: 'annotation-file', type: 'string', usage: 'path of the annotation file' },
    { name: 'disable-path-validation', type: 'bool', usage: 'skip path validation' },
    {
      name: 'artifact-platform',
      type: 'string',
      usage:
        '[Experimental] set artifact platform in the form of `os[/arch][/variant][:os_version]`'
    },
    {
      name: 'image-spec',
      type: 'string',
      default: 'v1.1',
      usage: '[Experimental] specify manifest type for building artifact. Options: v1.1, v1.0'
    },
    ...targetFlags(),
    ...remoteFlags(true),
    {
      name: 'format',
      type: 'string',
      usage:
        "[Experimental] Format output using a custom template:\n'text':       Print in text format\n'json':       Print in JSON format\n'go-template': Print output using the given Go template"
    },
    {
      name: 'template',
      type: 'string',
      usage: '[Experimental] Template string used to format output',
      hidden: true
    }
  ],
  async run(p) {
    const v = p.values
    checkArgs(this, 'oras push', p.args, 'at least', 1, 'the destination for pushing')
    const refs = p.args[0].split(',')
    const rawReference = refs[0]
    const extraRefs = refs.slice(1)
    const fileRefs = p.args.slice(1)

    // option.Parse, in struct field order: Common, Packer, ArtifactPlatform, ImageSpec, Target, Format
    if (!v['disable-path-validation']) {
      const failed = []
      for (const fr of fileRefs) {
        const { filePath } = parseFileRef(fr, '')
        if (path.isAbsolute(filePath)) failed.push(filePath)
      }
      if (failed.length) {
        throw new CLIError(
          `absolute file path detected. If it's intentional, use --disable-path-validation flag to skip this check: ${failed.join(', ')}`
        )
      }
    }
    let annotations = {}
    if (v['annotation-file'] !== '' && v.annotation.length !== 0) {
      throw new CLIError('`--annotation` and `--annotation-file` cannot be both specified')
    }
    if (v['annotation-file'] !== '') {
      try {
        const parsed = JSON.parse(fs.readFileSync(v['annotation-file'], 'utf8'))
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('bad')
        for (const [k, m] of Object.entries(parsed)) {
          if (m === null) continue
          if (typeof m !== 'object' || Array.isArray(m)) throw new Error('bad')
          for (const val of Object.values(m)) if (typeof val !== 'string') throw new Error('bad')
          annotations[k] = m
        }
      } catch {
        throw cliError(
          `invalid annotation json file: failed to load annotations from ${v['annotation-file']}`,
          {
            recommendation:
              "Annotation file doesn't match the required format. Please refer to the document at https://oras.land/docs/how_to_guides/manifest_annotations"
          }
        )
      }
    }
    if (v.annotation.length !== 0) {
      const manifestAnn = {}
      for (const a of v.annotation) {
        const eq = a.indexOf('=')
        if (eq < 0) {
          throw cliError("annotation value doesn't match the required format", {
            recommendation: 'Please use the correct format in the flag: --annotation "key=value"'
          })
        }
        const key = a.slice(0, eq)
        if (Object.prototype.hasOwnProperty.call(manifestAnn, key))
          throw new CLIError(`duplicate annotation key: ${key}, `)
        manifestAnn[key] = a.slice(eq + 1)
      }
      annotations = { $manifest: manifestAnn }
    }
    let platform = null
    if (v['artifact-platform'] !== '') platform = parsePlatform(v['artifact-platform'])
    const spec = imageSpec(v, p.changed)
    const target = parseTarget(v, rawReference)
    if (!target.isOCILayout) {
      readPasswordOptions(v)
      validateHeaders(v)
    }
    const format = parseFormat(v, ['text', 'json', 'go-template'])

    let artifactType = v['artifact-type']
    if (v.config !== '' && artifactType === '') {
      if (!spec.changed) spec.version = '1.0'
      else if (spec.flag === 'v1.1') {
        throw cliError('missing artifact type for OCI image-spec v1.1 artifacts', {
          recommendation: 'set an artifact type via `--artifact-type` or consider image spec v1.0'
        })
      }
    }
    if (v.config !== '' && platform) {
      throw new CLIError(
        'if any flags in the group [config artifact-platform] are set none of the others can be; [artifact-platform config] were all set'
      )
    }
    if (spec.version === '1.0' && v.config !== '' && artifactType !== '') {
      throw new CLIError('--artifact-type and --config cannot both be provided for 1.0 OCI image')
    }
    if (spec.version === '1.1' && v.config === '' && artifactType === '')
      artifactType = MT_UNKNOWN_ARTIFACT

    const printer = { verbose: v.verbose && format.type === 'text' }
    const textStatus = format.type === 'text'

    // config
    const files = new Map() // digest -> { path } for file-backed content
    let configDesc = null
    if (v.config !== '') {
      const { filePath, meta } = parseFileRef(v.config, MT_UNKNOWN_CONFIG)
      const d = await addFile(filePath, '$config', meta || MT_UNKNOWN_CONFIG, files, [])
      if (annotations.$config) d.annotations = annotations.$config
      else delete d.annotations
      configDesc = d
    } else if (platform) {
      if (spec.version === '1.0' && artifactType !== '') {
        throw cliError(
          'artifact type cannot be customized for OCI image-spec v1.0 when platform is specified',
          {
            recommendation: 'consider using image spec v1.1 or remove --artifact-type'
          }
        )
      }
      const bytes = Buffer.from(goJSON(platform))
      configDesc = {
        mediaType: MT_IMAGE_CONFIG,
        digest: 'sha256:' + sha256Hex(bytes),
        size: bytes.length
      }
      if (annotations.$config) configDesc.annotations = annotations.$config
      files.set(configDesc.digest, { buffer: bytes })
    }

    // files
    const layers = []
    const names = []
    for (const fr of fileRefs) {
      const { filePath, meta } = parseFileRef(fr, '')
      let name = goClean(filePath)
      if (textStatus && printer.verbose) out.print('Preparing', name)
      const d = await addFile(filePath, name, meta, files, names)
      const extra = annotations[filePath]
      if (extra) d.annotations = Object.assign(d.annotations || {}, extra)
      layers.push(d)
    }
    if (layers.length === 0 && textStatus) out.print('Uploading empty artifact')

    const packed = packManifest(spec.version, artifactType, {
      configDesc,
      configAnnotations: annotations.$config,
      manifestAnnotations: annotations.$manifest,
      layers
    })
    const root = packed.root
    const contentOf = desc => {
      if (packed.blobs.has(desc.digest)) return packed.blobs.get(desc.digest)
      const f = files.get(desc.digest)
      if (f.buffer) return f.buffer
      return { open: () => fs.createReadStream(f.path), length: desc.size }
    }

    const tags = []
    if (target.isOCILayout) {
      const store = new OCILayoutStore(target.path, true)
      await copyToLayout(
        store,
        root,
        packed,
        contentOf,
        target.reference,
        printer,
        textStatus,
        v.concurrency
      )
      if (target.reference !== '' && !isDigestRef(target.reference)) tags.push(target.reference)
      else if (target.reference === '') tags.push('')
      if (format.type === 'text') out.print('Pushed', `[oci-layout] ${rawReference}`)
      for (const t of extraRefs) {
        await store.push(root, packed.content)
        store.tag(root, t)
        tags.push(t)
        if (format.type === 'text') out.print('Tagged', t)
      }
    } else {
      const ref = target.ref
      const client = newClient(v, p.changed, ref.registry, [
        `repository:${ref.repository}:pull,push`
      ])
      this.errCtx = { registry: ref.registry, configPath: client.configPath }
      const repo = new RemoteRepository(client, ref)
      await copyToRemote(
        repo,
        root,
        packed,
        contentOf,
        target.reference,
        printer,
        textStatus,
        v.concurrency
      )
      if (!isDigestRef(target.reference)) tags.push(target.reference)
      if (format.type === 'text') out.print('Pushed', `[registry] ${rawReference}`)
      if (extraRefs.length) {
        await runLimited(extraRefs, v.concurrency <= 0 ? 3 : v.concurrency, async t => {
          if (!TAG_RE.test(t) && !isDigestRef(t))
            throw new CLIError(`invalid reference: invalid tag ${goQuote(t)}`)
          await repo.pushManifest(root, packed.content, t)
          tags.push(t)
          if (format.type === 'text') out.print('Tagged', t)
        })
      }
    }

    const refPath = target.path
    if (format.type === 'text') {
      out.print('ArtifactType:', root.artifactType || '')
      out.print('Digest:', root.digest)
    } else {
      const model = {
        reference: `${refPath}@${root.digest}`,
        mediaType: root.mediaType,
        digest: root.digest,
        size: root.size
      }
      if (root.annotations && Object.keys(root.annotations).length)
        model.annotations = sortedMap(root.annotations)
      if (root.artifactType) model.artifactType = root.artifactType
      model.referenceAsTags = tags.length ? tags.map(t => `${refPath}:${t}`) : null
      if (format.type === 'json') out.raw(goJSON(model, '  ') + '\n')
      else out.raw(renderTemplate(format.template, JSON.parse(goJSON(model))))
    }
    if (v['export-manifest'] !== '')
      fs.writeFileSync(v['export-manifest'], packed.content, { mode: 0o666 })
    return 0
  }
}

function parsePlatform(s) {
  let rest = s
  let osVersion
  const colon = rest.indexOf(':')
  if (colon >= 0) {
    osVersion = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
  }
  const parts = rest.split('/')
  if (parts.length > 3 || parts.some(x => x === '')) {
    throw new CLIError(
      `failed to parse platform ${goQuote(s)}: expected format os[/arch[/variant]]`
    )
  }
  const p = { architecture: parts[1] || 'amd64', os: parts[0] }
  if (osVersion) p['os.version'] = osVersion
  if (parts[2]) p.variant = parts[2]
  return p
}

function parseTarget(v, rawReference) {
  if (v['oci-layout'] && v['oci-layout-path'] !== '') {
    throw new CLIError(
      `flag ${goQuote('oci-layout-path')} is not supported with ${goQuote('oci-layout')}`
    )
  }
  if (v['oci-layout']) {
    let p
    let reference
    const at = rawReference.lastIndexOf('@')
    if (at >= 0) {
      p = rawReference.slice(0, at)
      reference = rawReference.slice(at + 1)
    } else {
      try {
        const r = parseFileRef(rawReference, '')
        p = r.filePath
        reference = r.meta
      } catch (e) {
        throw new CLIError(`${e.message}\ninvalid reference`)
      }
    }
    return { isOCILayout: true, path: p, reference }
  }
  if (v['oci-layout-path'] !== '') {
    return { isOCILayout: true, path: v['oci-layout-path'], reference: rawReference }
  }
  let ref
  try {
    ref = parseReference(rawReference)
  } catch (e) {
    throw cliError(`${goQuote(rawReference)}: ${e.message}`, {
      recommendation:
        'Please make sure the provided reference is in the form of <registry>/<repo>[:tag|@digest]'
    })
  }
  return {
    isOCILayout: false,
    ref,
    path: `${ref.registry}/${ref.repository}`,
    reference: ref.reference
  }
}

// oras-go file store Add: regular files (symlinks followed) and directories (tar+gzip).
async function addFile(filePath, name, mediaType, files, names) {
  if (names.includes(name)) throw new CLIError(`${name}: duplicate name`)
  names.push(name)
  let st
  try {
    st = await fsp.stat(filePath)
  } catch (e) {
    throw new CLIError(`stat ${filePath}: ${goErrno(e)}`)
  }
  if (st.isDirectory()) {
    const packed = await packDirectory(filePath, name)
    files.set(packed.digest, { path: packed.path })
    return {
      mediaType: mediaType || MT_LAYER_GZIP,
      digest: packed.digest,
      size: packed.size,
      annotations: {
        [ANNOTATION_DIGEST]: packed.tarDigest,
        [ANNOTATION_TITLE]: name,
        [ANNOTATION_UNPACK]: 'true'
      }
    }
  }
  const hash = nodeCrypto.createHash('sha256')
  let size = 0
  try {
    for await (const chunk of fs.createReadStream(filePath)) {
      hash.update(chunk)
      size += chunk.length
    }
  } catch (e) {
    throw new CLIError(`open ${filePath}: ${goErrno(e)}`)
  }
  const digest = 'sha256:' + hash.digest('hex')
  if (!files.has(digest)) files.set(digest, { path: filePath })
  return {
    mediaType: mediaType || MT_LAYER,
    digest,
    size,
    annotations: { [ANNOTATION_TITLE]: name }
  }
}

function goErrno(e) {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EACCES':
      return 'permission denied'
    case 'ENOTDIR':
      return 'not a directory'
    case 'ELOOP':
      return 'too many levels of symbolic links'
    case 'EISDIR':
      return 'is a directory'
    default:
      return e.message
  }
}

function successorsOf(packed) {
  const seen = new Set()
  const list = []
  for (const d of [packed.manifest.config, ...packed.manifest.layers]) {
    if (seen.has(d.digest)) continue
    seen.add(d.digest)
    list.push(d)
  }
  return list
}

// status.TextPushHandler.PostCopy for the manifest: deduplicated successors are reported as existing.
function printDeduplicated(packed, committed, printer) {
  for (const d of [packed.manifest.config, ...packed.manifest.layers]) {
    const name = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (committed.has(d.digest) && committed.get(d.digest) !== name)
      printStatus(printer, d, 'Exists   ')
  }
}

async function copyToRemote(
  repo,
  root,
  packed,
  contentOf,
  reference,
  printer,
  textStatus,
  concurrency
) {
  const limit = concurrency <= 0 ? 3 : concurrency
  const committed = new Map()
  const status = (d, s) => {
    if (textStatus) printStatus(printer, d, s)
  }
  const pushRootWithRef = async () => {
    await repo.pushManifest(root, packed.content, reference || root.digest)
  }
  let exists
  try {
    exists = await repo.manifestExists(root)
  } catch (e) {
    throw copyError('Exists', 'destination', e)
  }
  if (exists) {
    try {
      await pushRootWithRef()
    } catch (e) {
      throw copyError('PushReference', 'destination', e)
    }
    return
  }
  await runLimited(successorsOf(packed), limit, async d => {
    let has
    try {
      has = await repo.blobExists(d)
    } catch (e) {
      throw copyError('Exists', 'destination', e)
    }
    const title = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (has) {
      committed.set(d.digest, title)
      status(d, 'Exists   ')
      return
    }
    status(d, 'Uploading')
    try {
      await repo.pushBlob(d, contentOf(d))
    } catch (e) {
      throw copyError('Push', 'destination', e)
    }
    committed.set(d.digest, title)
    status(d, 'Uploaded ')
  })
  status(root, 'Uploading')
  try {
    await pushRootWithRef()
  } catch (e) {
    throw copyError(reference ? 'PushReference' : 'Push', 'destination', e)
  }
  if (textStatus) printDeduplicated(packed, committed, printer)
  status(root, 'Uploaded ')
}

async function copyToLayout(
  store,
  root,
  packed,
  contentOf,
  reference,
  printer,
  textStatus,
  concurrency
) {
  const limit = concurrency <= 0 ? 3 : concurrency
  const committed = new Map()
  const status = (d, s) => {
    if (textStatus) printStatus(printer, d, s)
  }
  if (store.exists(root)) {
    status(root, 'Exists   ')
    if (reference) store.tag(root, reference)
    return
  }
  await runLimited(successorsOf(packed), limit, async d => {
    const title = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (store.exists(d)) {
      committed.set(d.digest, title)
      status(d, 'Exists   ')
      return
    }
    status(d, 'Uploading')
    await store.push(d, contentOf(d))
    committed.set(d.digest, title)
    status(d, 'Uploaded ')
  })
  status(root, 'Uploading')
  await store.push(root, packed.content)
  if (reference) store.tag(root, reference)
  if (textStatus) printDeduplicated(packed, committed, printer)
  status(root, 'Uploaded ')
}

// A small subset of Go templates: {{.a.b}}, {{json .a}}, {{println .a}}.
function renderTemplate(tmpl, data) {
  return tmpl.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, expr) => {
    const m = /^(?:(json|print|println)\s+)?(\.[\w.]*)$/.exec(expr)
    if (!m)
      throw new CLIError(
        `template: output:1: function ${goQuote(expr.split(/\s+/)[0])} not defined`
      )
    let val = data
    for (const part of m[2].split('.').filter(Boolean)) val = val == null ? undefined : val[part]
    if (m[1] === 'json') return goJSON(val)
    const s =
      val === undefined || val === null
        ? '<no value>'
        : typeof val === 'object'
          ? goFmtV(val)
          : String(val)
    return m[1] === 'println' ? s + '\n' : s
  })
}

// --- pull

const pullCmd = {
  name: 'pull',
  use: 'pull [flags] <name>{:<tag>|@<digest>}',
  short: 'Pull files from a registry or an OCI image layout',
  long: "Pull files from a registry or an OCI image layout\n\nExample - Pull artifact files from a registry:\n  oras pull localhost:5000/hello:v1\n\nExample - Pull artifact files from an insecure registry:\n  oras pull --insecure localhost:5000/hello:v1\n\nExample - Pull artifact files from the HTTP registry:\n  oras pull --plain-http localhost:5000/hello:v1\n\nExample - Pull files from an OCI image layout folder 'layout-dir':\n  oras pull --oci-layout layout-dir:v1\n",
  flags: [
    ...COMMON_FLAGS,
    {
      name: 'keep-old-files',
      short: 'k',
      type: 'bool',
      usage: 'do not replace existing files when pulling, treat them as errors'
    },
    {
      name: 'allow-path-traversal',
      short: 'T',
      type: 'bool',
      usage: 'allow storing files out of the output directory'
    },
    {
      name: 'include-subject',
      type: 'bool',
      usage: '[Preview] recursively pull the subject of artifacts'
    },
    { name: 'output', short: 'o', type: 'string', default: '.', usage: 'output directory' },
    { name: 'config', type: 'string', usage: 'output manifest config file' },
    { name: 'concurrency', type: 'int', default: 3, usage: 'concurrency level' },
    {
      name: 'verbose',
      short: 'v',
      type: 'bool',
      default: true,
      usage: 'print status output for unnamed blobs',
      deprecated: 'and will be removed in a future release.'
    },
    {
      name: 'platform',
      type: 'string',
      usage: 'request platform in the form of `os[/arch][/variant][:os_version]`'
    },
    ...targetFlags(),
    ...remoteFlags(true),
    {
      name: 'format',
      type: 'string',
      usage: '[Experimental] Format output using a custom template'
    },
    { name: 'template', type: 'string', usage: '', hidden: true }
  ],
  async run(p) {
    const v = p.values
    checkArgs(this, 'oras pull', p.args, 'exactly', 1, 'the artifact reference you want to pull')
    const target = parseTarget(v, p.args[0])
    if (!target.isOCILayout) readPasswordOptions(v)
    const format = parseFormat(v, ['text', 'json', 'go-template'])
    if (target.reference === '') {
      throw cliError(`"${p.args[0]}": no tag or digest specified`, {
        usage: usageOf(this, 'oras pull'),
        recommendation: `Please specify a reference in the form of "<name>:<tag>" or "<name>@<digest>". Run "oras pull -h" for more options and examples`
      })
    }
    const printer = { verbose: v.verbose && format.type === 'text' }
    let getManifest
    let getBlob
    if (target.isOCILayout) {
      let store
      try {
        fs.statSync(target.path)
        store = new OCILayoutStore(target.path, false)
      } catch (e) {
        if (e instanceof CLIError) throw e
        throw new CLIError(
          `invalid argument ${goQuote(p.args[0])}: failed to find path ${goQuote(target.path)}: stat ${target.path}: no such file or directory`
        )
      }
      getManifest = async ref => {
        const desc = store.resolve(ref)
        return { desc, content: store.read(desc) }
      }
      getBlob = async d => store.read(d)
    } else {
      const client = newClient(v, p.changed, target.ref.registry, [])
      this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
      const repo = new RemoteRepository(client, target.ref)
      getManifest = async ref => {
        try {
          return await repo.fetchManifest(ref)
        } catch (e) {
          if (e.notFound)
            throw wrapErr(
              `failed to resolve ${ref}: `,
              Object.assign(new CLIError(`${target.path}:${ref}: not found`), { notFound: true })
            )
          throw e
        }
      }
      getBlob = d => repo.fetchBlob(d)
    }
    const { desc, content } = await getManifest(target.reference)
    const manifest = JSON.parse(content.toString('utf8'))
    const outDir = v.output
    fs.mkdirSync(outDir, { recursive: true })
    const textStatus = format.type === 'text'
    const pulledFiles = []
    const layers = manifest.layers || []
    await runLimited(layers, v.concurrency <= 0 ? 3 : v.concurrency, async d => {
      const title = d.annotations && d.annotations[ANNOTATION_TITLE]
      if (title === undefined) {
        if (textStatus) printStatus(printer, d, 'Skipped    ')
        return
      }
      const dest = path.resolve(outDir, title)
      const root = path.resolve(outDir)
      if (!v['allow-path-traversal'] && dest !== root && !dest.startsWith(root + path.sep)) {
        throw new CLIError(`${title}: path traversal disallowed`)
      }
      if (v['keep-old-files'] && fs.existsSync(dest)) throw new CLIError(`${title}: duplicate name`)
      if (textStatus) printStatus(printer, d, 'Downloading')
      const data = await getBlob(d)
      if ('sha256:' + sha256Hex(data) !== d.digest)
        throw new CLIError(`${d.digest}: mismatch digest: ${'sha256:' + sha256Hex(data)}`)
      if (d.annotations[ANNOTATION_UNPACK] === 'true') {
        extractTarGz(data, outDir, v['allow-path-traversal'])
      } else {
        fs.mkdirSync(path.dirname(dest), { recursive: true })
        fs.writeFileSync(dest, data)
      }
      pulledFiles.push({ path: dest, d })
      if (textStatus) printStatus(printer, d, 'Downloaded ')
    })
    if (v.config !== '' && manifest.config) {
      const { filePath } = parseFileRef(v.config, '')
      fs.writeFileSync(filePath, await getBlob(manifest.config))
    }
    if (format.type === 'text') {
      if (pulledFiles.length === 0)
        out.print('Skipped pulling layers without file name in "org.opencontainers.image.title"')
      out.print('Pulled', `[${target.isOCILayout ? 'oci-layout' : 'registry'}] ${p.args[0]}`)
      out.print('Digest:', desc.digest)
    } else {
      const model = {
        reference: `${target.path}@${desc.digest}`,
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size
      }
      if (manifest.annotations) model.annotations = sortedMap(manifest.annotations)
      if (manifest.artifactType) model.artifactType = manifest.artifactType
      model.files = pulledFiles.map(f => {
        const o = {
          path: f.path,
          reference: `${target.path}@${f.d.digest}`,
          mediaType: f.d.mediaType,
          digest: f.d.digest,
          size: f.d.size
        }
        if (f.d.annotations) o.annotations = sortedMap(f.d.annotations)
        return o
      })
      if (format.type === 'json') out.raw(goJSON(model, '  ') + '\n')
      else out.raw(renderTemplate(format.template, JSON.parse(goJSON(model))))
    }
    return 0
  }
}

// --- manifest fetch

const manifestFetchCmd = {
  name: 'fetch',
  use: 'fetch [flags] <name>{:<tag>|@<digest>}',
  short: 'Fetch manifest of the target artifact',
  long: "Fetch manifest of the target artifact\n\nExample - Fetch raw manifest from a registry:\n  oras manifest fetch localhost:5000/hello:v1\n\nExample - Fetch the descriptor of a manifest from a registry:\n  oras manifest fetch --descriptor localhost:5000/hello:v1\n\nExample - Fetch manifest from an OCI image layout folder 'layout-dir':\n  oras manifest fetch --oci-layout layout-dir:v1\n",
  flags: [
    ...COMMON_FLAGS,
    { name: 'descriptor', type: 'bool', usage: 'output the descriptor' },
    { name: 'pretty', type: 'bool', usage: 'prettify JSON' },
    {
      name: 'output',
      short: 'o',
      type: 'string',
      usage: 'file `path` to write the fetched manifest to, use - for stdout'
    },
    {
      name: 'platform',
      type: 'string',
      usage: 'request platform in the form of `os[/arch][/variant][:os_version]`'
    },
    { name: 'media-type', type: 'stringArray', usage: 'accepted media types' },
    ...targetFlags(),
    ...remoteFlags(true),
    {
      name: 'format',
      type: 'string',
      usage: '[Experimental] Format output using a custom template'
    },
    { name: 'template', type: 'string', usage: '', hidden: true }
  ],
  async run(p) {
    const v = p.values
    checkArgs(this, 'oras manifest fetch', p.args, 'exactly', 1, 'the manifest to fetch')
    const target = parseTarget(v, p.args[0])
    if (!target.isOCILayout) readPasswordOptions(v)
    const format = parseFormat(v, ['text', 'json', 'go-template'])
    if (target.reference === '') {
      throw cliError(`"${p.args[0]}": no tag or digest specified`, {
        usage: usageOf(this, 'oras manifest fetch'),
        recommendation: `Please specify a reference in the form of "<name>:<tag>" or "<name>@<digest>". Run "oras manifest fetch -h" for more options and examples`
      })
    }
    let desc
    let content
    if (target.isOCILayout) {
      const store = new OCILayoutStore(target.path, false)
      desc = store.resolve(target.reference)
      content = store.read(desc)
      desc = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }
    } else {
      const client = newClient(v, p.changed, target.ref.registry, [])
      this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
      const repo = new RemoteRepository(client, target.ref)
      try {
        if (v.descriptor && format.type === 'text') {
          desc = await repo.resolveManifest(target.reference)
        } else {
          const r = await repo.fetchManifest(target.reference)
          desc = r.desc
          content = r.content
        }
      } catch (e) {
        if (e.notFound) {
          const q = `${target.path}:${target.reference}`.replace(':sha256', '@sha256')
          throw Object.assign(
            new CLIError(`failed to fetch the content of ${goQuote(p.args[0])}: ${q}: not found`),
            { notFound: true }
          )
        }
        throw wrapErr(`failed to fetch the content of ${goQuote(p.args[0])}: `, e)
      }
    }
    let text
    if (format.type === 'text') {
      if (v.descriptor)
        text = goJSON(
          { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
          v.pretty ? '  ' : undefined
        )
      else
        text = v.pretty
          ? goJSON(JSON.parse(content.toString('utf8')), '  ')
          : content.toString('utf8')
      if (v.pretty) text += '\n'
    } else {
      const model = {
        reference: `${target.path}@${desc.digest}`,
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        content: JSON.parse(content.toString('utf8'))
      }
      text =
        format.type === 'json' ? goJSON(model, '  ') + '\n' : renderTemplate(format.template, model)
    }
    if (v.output !== '' && v.output !== '-')
      fs.writeFileSync(v.output, format.type === 'text' && !v.descriptor ? content : text)
    else out.raw(text)
    return 0
  }
}

// --- repo tags

const repoTagsCmd = {
  name: 'tags',
  use: 'tags [flags] <name>',
  short: 'Show tags of the target repository',
  long: 'Show tags of the target repository\n\nExample - Show tags of the target repository:\n  oras repo tags localhost:5000/hello\n',
  flags: [
    ...COMMON_FLAGS,
    { name: 'last', type: 'string', usage: 'start after the tag specified by `last`' },
    {
      name: 'exclude-digest-tags',
      type: 'bool',
      usage: "[Preview] exclude all digest-like tags such as 'sha256-aaaa...'"
    },
    ...targetFlags(),
    ...remoteFlags(true),
    {
      name: 'format',
      type: 'string',
      usage: '[Experimental] Format output using a custom template'
    },
    { name: 'template', type: 'string', usage: '', hidden: true }
  ],
  async run(p) {
    const v = p.values
    checkArgs(
      this,
      'oras repo tags',
      p.args,
      'exactly',
      1,
      'the target repository to list tags from'
    )
    const target = parseTarget(v, p.args[0])
    if (!target.isOCILayout) readPasswordOptions(v)
    const format = parseFormat(v, ['text', 'json', 'go-template'])
    let tags
    if (target.isOCILayout) {
      tags = new OCILayoutStore(target.path, false).tags()
    } else {
      const client = newClient(v, p.changed, target.ref.registry, [])
      this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
      tags = await new RemoteRepository(client, target.ref).tags()
    }
    if (v.last) tags = tags.filter(t => t > v.last)
    if (v['exclude-digest-tags']) tags = tags.filter(t => !/^[a-z0-9]+-[a-f0-9]{32,}$/.test(t))
    if (format.type === 'text') for (const t of tags) out.print(t)
    else if (format.type === 'json') out.raw(goJSON({ tags }, '  ') + '\n')
    else out.raw(renderTemplate(format.template, { tags }))
    return 0
  }
}

// --- command tree

const manifestGroup = {
  name: 'manifest',
  use: 'manifest [command]',
  short: 'Manifest operations',
  long: 'Manifest operations',
  subcommands: [manifestFetchCmd]
}
const repoGroup = {
  name: 'repo',
  use: 'repo [command]',
  short: 'Repository operations',
  long: 'Repository operations',
  aliases: ['repository'],
  subcommands: [repoTagsCmd]
}
const rootCmd = {
  name: 'oras',
  use: 'oras [command]',
  short: '',
  subcommands: [pullCmd, pushCmd, loginCmd, logoutCmd, versionCmd, manifestGroup, repoGroup]
}

function groupHelp(group, pathName) {
  const subs = group.subcommands
  const width = Math.max(...subs.map(s => s.name.length), 10)
  const lines = []
  if (group.long) lines.push(group.long, '')
  lines.push('Usage:', `  ${pathName} [command]`, '', 'Available Commands:')
  for (const s of subs) lines.push(`  ${s.name.padEnd(width + 1)}${s.short}`)
  lines.push(
    '',
    'Flags:',
    `  -h, --help   help for ${pathName.split(' ').pop()}`,
    '',
    `Use "${pathName} [command] --help" for more information about a command.`
  )
  return lines.join('\n') + '\n'
}

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
  }
  return d[a.length][b.length]
}

function unknownCommand(arg, group, pathName) {
  const lower = arg.toLowerCase()
  const suggestions = group.subcommands
    .map(s => s.name)
    .filter(n => levenshtein(lower, n) <= 2 || n.startsWith(lower))
  let msg = `unknown command ${goQuote(arg)} for ${goQuote(pathName)}`
  if (suggestions.length)
    msg += '\n\nDid you mean this?\n' + suggestions.map(s => `\t${s}`).join('\n') + '\n'
  return new CLIError(msg)
}

async function execute(argv) {
  let node = rootCmd
  let pathName = 'oras'
  let rest = argv
  // walk the command tree; flags may only follow the leaf command
  while (node.subcommands) {
    const first = rest[0]
    if (first === undefined) {
      out.raw(node === rootCmd ? rootHelp() : groupHelp(node, pathName))
      return 0
    }
    if (first === '-h' || first === '--help' || first === 'help') {
      if (first === 'help' && rest[1] && node === rootCmd) {
        const sub = node.subcommands.find(s => s.name === rest[1])
        if (sub) {
          out.raw(
            sub.subcommands ? groupHelp(sub, `oras ${sub.name}`) : helpText(sub, `oras ${sub.name}`)
          )
          return 0
        }
      }
      out.raw(node === rootCmd ? rootHelp() : groupHelp(node, pathName))
      return 0
    }
    if (first.startsWith('-')) {
      const name = first.replace(/^-+/, '').split('=')[0]
      if (first.startsWith('--')) throw new CLIError(`unknown flag: --${name}`)
      throw new CLIError(`unknown shorthand flag: '${name[0]}' in ${first}`)
    }
    const sub = node.subcommands.find(s => s.name === first || (s.aliases || []).includes(first))
    if (!sub) {
      if (node === rootCmd) throw unknownCommand(first, node, pathName)
      out.raw(groupHelp(node, pathName))
      return 0
    }
    node = sub
    pathName += ' ' + sub.name
    rest = rest.slice(1)
  }
  const parsed = parseFlags(node, rest)
  if (parsed.values.help) {
    out.raw(helpText(node, pathName))
    return 0
  }
  debugEnabled = !!parsed.values.debug
  currentCmd = node
  return node.run(parsed)
}

function rootHelp() {
  const cmds = [
    ['attach', 'Attach files to an existing artifact'],
    ['backup', '[Experimental] Back up artifacts from a registry into an OCI image layout'],
    ['blob', 'Blob operations'],
    ['completion', 'Generate the autocompletion script for the specified shell'],
    ['cp', 'Copy artifacts from one target to another'],
    ['discover', 'Discover referrers of a manifest'],
    ['help', 'Help about any command'],
    ['login', 'Log in to a remote registry'],
    ['logout', 'Log out from a remote registry'],
    ['manifest', 'Manifest operations'],
    ['pull', 'Pull files from a registry or an OCI image layout'],
    ['push', 'Push files to a registry or an OCI image layout'],
    ['repo', 'Repository operations'],
    ['resolve', 'Resolves digest of the target artifact'],
    ['restore', '[Experimental] Restore artifacts to a registry from an OCI image layout'],
    ['tag', 'Tag a manifest in a registry or an OCI image layout'],
    ['version', 'Show the oras version information']
  ]
  const lines = ['Usage:', '  oras [command]', '', 'Available Commands:']
  for (const [n, s] of cmds) lines.push(`  ${n.padEnd(11)}${s}`)
  lines.push(
    '',
    'Flags:',
    '  -h, --help   help for oras',
    '',
    'Use "oras [command] --help" for more information about a command.'
  )
  return lines.join('\n') + '\n'
}

let currentCmd = null

function finish(code) {
  cleanup()
  for (const a of agents) a.destroy()
  process.exitCode = code
  setTimeout(() => process.exit(code), 1500).unref()
}

async function main() {
  let code
  try {
    code = await execute(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof CLIError)) {
      out.err(`Error: ${err && err.message ? err.message : String(err)}\n`)
    } else if (err.prefix) {
      out.err(`${err.prefix} ${err.message}\n`)
    } else {
      const isLayout = !!(currentCmd && currentCmd.errCtx === undefined)
      const ctx =
        currentCmd && currentCmd.errCtx
          ? currentCmd.errCtx
          : { isOCILayout: isLayout && !err.errResp && !err.basicCredNotFound && !err.notFound }
      const { prefix, message } = handleTargetError(err, ctx)
      out.err(`${prefix} ${message}\n`)
    }
    code = 1
  }
  finish(code)
}

process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

main()
