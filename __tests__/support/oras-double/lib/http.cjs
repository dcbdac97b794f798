'use strict'
// HTTP: the retry transport and the auth client, stacked as in oras-go registry/remote.

const http = require('node:http')
const https = require('node:https')
const { USER_AGENT } = require('./constants.cjs')
const { CLIError, STATUS_TEXT, errorResponse, wrapErr } = require('./errors.cjs')
const { goQuote } = require('./go.cjs')
const { debug, debugLog } = require('./output.cjs')

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
    const reqNo = debug.counter++
    if (debug.enabled) {
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
          if (debug.enabled) {
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

module.exports = { RegistryClient, agents, goMethod, goQueryEncode, roundTrip }
