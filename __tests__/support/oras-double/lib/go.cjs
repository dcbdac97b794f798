'use strict'
// Go formatting: %q quoting, %v of JSON values, encoding/json output order and escapes.

const nodeCrypto = require('node:crypto')

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

module.exports = { descJSONValue, goFmtV, goJSON, goQuote, sha256Hex, shortDigest, sortedMap }
