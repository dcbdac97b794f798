'use strict'
// Registry references (registry/repo[:tag|@digest]) and file references (path[:type]).

const path = require('node:path')
const { CLIError } = require('./errors.cjs')
const { goQuote } = require('./go.cjs')

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

module.exports = { TAG_RE, goClean, isDigestRef, parseFileRef, parseReference, validRegistry }
