'use strict'
// Error values and the texts oras prints for them (oerrors, errcode, cobra).

const http = require('node:http')
const { REGISTRY_ERROR_PREFIX } = require('./constants.cjs')
const { goFmtV, goQuote } = require('./go.cjs')

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

module.exports = {
  CLIError,
  STATUS_TEXT,
  cliError,
  copyError,
  errorResponse,
  handleTargetError,
  trimErrResp,
  wrapErr
}
