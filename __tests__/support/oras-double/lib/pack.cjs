'use strict'
// Manifest packing (oras-go PackManifest): image-spec 1.0 and 1.1 manifests.

const {
  ANNOTATION_CREATED,
  EMPTY_JSON_DIGEST,
  MT_EMPTY,
  MT_MANIFEST,
  MT_UNKNOWN_CONFIG
} = require('./constants.cjs')
const { CLIError } = require('./errors.cjs')
const { descJSONValue, goJSON, goQuote, sha256Hex, sortedMap } = require('./go.cjs')

const MEDIA_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/

function validateMediaType(mt) {
  if (!MEDIA_TYPE_RE.test(mt)) throw new CLIError(`${mt}: invalid media type`)
}

// Go's time.Parse(time.RFC3339, v), which oras-go's ensureAnnotationCreated calls: upper-case
// T and Z only, a real calendar date (Feb 30 is refused), hour 0-23, second 0-59; and, from its
// lenient fallback parser, a one-digit hour, a comma before the fraction, offsets up to 24:60.
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/

function daysIn(month, year) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

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
      +m[3] > daysIn(+m[2], +m[1]) ||
      +m[4] > 23 ||
      +m[5] > 59 ||
      +m[6] > 59 ||
      (m[7] !== undefined && (+m[7] > 24 || +m[8] > 60))
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

module.exports = { packManifest, validateMediaType }
