'use strict'
// oras manifest index create (cmd/oras/root/manifest/index/create.go)

const fs = require('node:fs')
const {
  MT_DOCKER_MANIFEST,
  MT_INDEX,
  MT_MANIFEST,
  MANIFEST_TYPES
} = require('../lib/constants.cjs')
const { CLIError, cliError, wrapErr } = require('../lib/errors.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags } = require('../lib/flags.cjs')
const {
  descJSONValue,
  goJSON,
  goQuote,
  sha256Hex,
  shortDigest,
  sortedMap
} = require('../lib/go.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const { readPasswordOptions, newClient } = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { TAG_RE, isDigestRef } = require('../lib/reference.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { parseTarget } = require('../lib/target.cjs')
const { validateMediaType } = require('../lib/pack.cjs')

const MAX_CONFIG_SIZE = 4 * 1024 * 1024

// option.Annotation.Parse: -a key=value, split at the first '='.
function parseManifestAnnotations(values) {
  const annotations = {}
  for (const a of values) {
    const eq = a.indexOf('=')
    if (eq < 0) {
      throw cliError("annotation value doesn't match the required format", {
        recommendation: 'Please use the correct format in the flag: --annotation "key=value"'
      })
    }
    const key = a.slice(0, eq)
    if (Object.prototype.hasOwnProperty.call(annotations, key))
      throw new CLIError(`duplicate annotation key: ${key}, `)
    annotations[key] = a.slice(eq + 1)
  }
  return annotations
}

// json.Unmarshal of a config into ocispec.Platform: no platform when it fails or names neither
// architecture nor os.
function platformOf(configBytes) {
  let v
  try {
    v = JSON.parse(configBytes.toString('utf8'))
  } catch {
    return undefined
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
  const p = {}
  for (const [key, field] of [
    ['architecture', 'architecture'],
    ['os', 'os'],
    ['os.version', 'os.version']
  ]) {
    if (v[key] === undefined || v[key] === null) continue
    if (typeof v[key] !== 'string') return undefined
    if (v[key] !== '') p[field] = v[key]
  }
  if (v['os.features'] !== undefined && v['os.features'] !== null) {
    if (!Array.isArray(v['os.features']) || v['os.features'].some(f => typeof f !== 'string'))
      return undefined
    if (v['os.features'].length) p['os.features'] = v['os.features']
  }
  if (v.variant !== undefined && v.variant !== null) {
    if (typeof v.variant !== 'string') return undefined
    if (v.variant !== '') p.variant = v.variant
  }
  if (!p.architecture && !p.os) return undefined
  // ocispec.Platform field order; architecture and os are always written.
  const o = { architecture: p.architecture || '', os: p.os || '' }
  if (p['os.version']) o['os.version'] = p['os.version']
  if (p['os.features']) o['os.features'] = p['os.features']
  if (p.variant) o.variant = p.variant
  return o
}

const manifestIndexCreateCmd = {
  name: 'create',
  aliases: ['pack'],
  use: 'create [flags] <target>[:<tag[,<tag>][...]] <sources>[{<tag>|<digest>}...]',
  short: '[Experimental] Create and push an index from provided manifests',
  long: "[Experimental] Create and push an index from provided manifests. All manifests should be in the same repository\n\nExample - Create an index from source manifests tagged 'linux-amd64' and 'linux-arm64', and push without tagging:\n  oras manifest index create localhost:5000/hello linux-amd64 linux-arm64\n\nExample - Create an index from source manifests tagged 'linux-amd64' and 'linux-arm64', and push with the tag 'v1':\n  oras manifest index create localhost:5000/hello:v1 linux-amd64 linux-arm64\n\nExample - Create an index from source manifests using both tags and digests, and push with tag 'v1':\n  oras manifest index create localhost:5000/hello:v1 linux-amd64 sha256:99e4703fbf30916f549cd6bfa9cdbab614b5392fbe64fdee971359a77073cdf9\n\nExample - Create an index and push it with multiple tags:\n  oras manifest index create localhost:5000/hello:tag1,tag2,tag3 linux-amd64 linux-arm64 sha256:99e4703fbf30916f549cd6bfa9cdbab614b5392fbe64fdee971359a77073cdf9\n\nExample - Create and push an index with annotations:\n  oras manifest index create localhost:5000/hello:v1 linux-amd64 --annotation \"key=val\"\n\nExample - Create an index with a specified artifact type:\n  oras manifest index create --artifact-type=\"application/vnd.example+type\" localhost:5000/hello linux-amd64\n\nExample - Create an index and push to an OCI image layout folder 'layout-dir' and tag with 'v1':\n  oras manifest index create layout-dir:v1 linux-amd64 sha256:99e4703fbf30916f549cd6bfa9cdbab614b5392fbe64fdee971359a77073cdf9 --oci-layout\n  \nExample - Create an index and save it locally to index.json, auto push will be disabled:\n  oras manifest index create localhost:5000/hello linux-amd64 linux-arm64 --output index.json\n\nExample - Create an index and output the index to stdout, auto push will be disabled:\n  oras manifest index create localhost:5000/hello linux-arm64 --output - --pretty\n",
  flags: [
    ...COMMON_FLAGS,
    { name: 'artifact-type', type: 'string', usage: 'artifact type for overall index' },
    {
      name: 'output',
      short: 'o',
      type: 'string',
      usage: 'file `path` to write the created index to, use - for stdout'
    },
    ...targetFlags(),
    ...remoteFlags(true),
    { name: 'pretty', type: 'bool', usage: 'prettify JSON objects printed to stdout' },
    { name: 'annotation', short: 'a', type: 'stringArray', usage: 'manifest annotations' }
  ],
  async run(p) {
    const v = p.values
    const pathName = 'oras manifest index create'
    checkArgs(this, pathName, p.args, 'at least', 1, 'the destination index to create.')
    const refs = p.args[0].split(',')
    const rawReference = refs[0]
    const extraRefs = refs.slice(1)
    const sources = p.args.slice(1)

    // option.Parse, in struct field order: Common, Target, Pretty, Annotation
    const target = parseTarget(v, rawReference)
    if (!target.isOCILayout) readPasswordOptions(v)
    const annotations = parseManifestAnnotations(v.annotation)

    let store
    let repo
    if (target.isOCILayout) {
      store = new OCILayoutStore(target.path, true)
    } else {
      const client = newClient(v, p.changed, target.ref.registry, [])
      this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
      repo = new RemoteRepository(client, target.ref)
    }
    const fetchBytes = async ref => {
      if (store) {
        const desc = store.resolve(ref)
        return { desc, content: store.read(desc) }
      }
      try {
        return await repo.fetchManifest(ref)
      } catch (e) {
        if (!e.notFound) throw e
        const shown = isDigestRef(ref) ? `${target.path}@${ref}` : `${target.path}:${ref}`
        throw Object.assign(new CLIError(`${shown}: not found`), { notFound: true })
      }
    }
    const fetchBlob = async desc => (store ? store.read(desc) : repo.fetchBlob(desc))

    if (v['artifact-type'] !== '') validateMediaType(v['artifact-type'])
    const textStatus = v.output !== '-'

    // fetchSourceManifests
    const manifests = []
    for (const source of sources) {
      if (textStatus) out.print('Fetching ', source)
      let fetched
      try {
        fetched = await fetchBytes(source)
      } catch (e) {
        throw wrapErr(`could not find the manifest ${source}: `, e)
      }
      const { desc, content } = fetched
      if (!MANIFEST_TYPES.includes(desc.mediaType))
        throw new CLIError(`${source} is not a manifest`)
      if (textStatus) {
        if (isDigestRef(source)) out.print('Fetched  ', source)
        else out.print('Fetched  ', desc.digest, source)
      }
      // enrichDescriptor: a plain descriptor, plus the platform of an image's config
      const entry = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }
      const parsed = JSON.parse(content.toString('utf8'))
      if (desc.mediaType === MT_MANIFEST || desc.mediaType === MT_DOCKER_MANIFEST) {
        const config = parsed.config || {}
        if (config.size > MAX_CONFIG_SIZE) {
          throw new CLIError(
            `config size ${config.size} exceeds MaxBytes ${MAX_CONFIG_SIZE}: size exceeds limit`
          )
        }
        if (config.digest) {
          const platform = platformOf(await fetchBlob(config))
          if (platform) entry.platform = platform
        }
        if (parsed.artifactType) entry.artifactType = parsed.artifactType
      } else if (desc.mediaType === MT_INDEX && parsed.artifactType) {
        entry.artifactType = parsed.artifactType
      }
      manifests.push(entry)
    }

    const index = { schemaVersion: 2, mediaType: MT_INDEX }
    if (v['artifact-type'] !== '') index.artifactType = v['artifact-type']
    index.manifests = manifests.map(descJSONValue)
    if (Object.keys(annotations).length) index.annotations = sortedMap(annotations)
    const content = Buffer.from(goJSON(index))
    const desc = {
      mediaType: MT_INDEX,
      digest: 'sha256:' + sha256Hex(content),
      size: content.length
    }
    if (textStatus) out.print('Packed   ', shortDigest(desc), MT_INDEX)

    if (v.output !== '') {
      const text = v.pretty ? goJSON(JSON.parse(content.toString('utf8')), '  ') + '\n' : content
      if (v.output === '-') out.raw(text)
      else fs.writeFileSync(v.output, text)
    } else {
      const ref = target.reference
      const display = `[${target.isOCILayout ? 'oci-layout' : 'registry'}] ${rawReference}`
      if (store) {
        await store.push(desc, content)
        if (ref !== '' && !isDigestRef(ref)) store.tag(desc, ref)
        out.print('Pushed   ', display)
        for (const t of extraRefs) {
          store.tag(desc, t)
          out.print('Tagged', t)
        }
      } else {
        await repo.pushManifest(desc, content, ref === '' || isDigestRef(ref) ? desc.digest : ref)
        out.print('Pushed   ', display)
        for (const t of extraRefs) {
          if (!TAG_RE.test(t) && !isDigestRef(t))
            throw new CLIError(`invalid reference: invalid tag ${goQuote(t)}`)
          await repo.pushManifest(desc, content, t)
          out.print('Tagged', t)
        }
      }
    }
    if (textStatus) out.print('Digest:', desc.digest)
    return 0
  }
}

module.exports = { manifestIndexCreateCmd }
