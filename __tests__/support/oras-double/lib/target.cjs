'use strict'
// --oci-layout / registry target parsing and --artifact-platform.

const { CLIError, cliError } = require('./errors.cjs')
const { goQuote } = require('./go.cjs')
const { parseFileRef, parseReference } = require('./reference.cjs')

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

module.exports = { parsePlatform, parseTarget }
