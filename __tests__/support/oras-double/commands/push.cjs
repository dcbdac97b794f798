'use strict'
// oras push

const fs = require('node:fs')
const path = require('node:path')
const { MT_IMAGE_CONFIG, MT_UNKNOWN_ARTIFACT, MT_UNKNOWN_CONFIG } = require('../lib/constants.cjs')
const { copyToLayout, copyToRemote, runLimited } = require('../lib/copy.cjs')
const { CLIError, cliError } = require('../lib/errors.cjs')
const { addFile } = require('../lib/file-store.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags } = require('../lib/flags.cjs')
const { goJSON, goQuote, sha256Hex, sortedMap } = require('../lib/go.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const {
  imageSpec,
  newClient,
  parseFormat,
  readPasswordOptions,
  validateHeaders
} = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { packManifest } = require('../lib/pack.cjs')
const { TAG_RE, goClean, isDigestRef, parseFileRef } = require('../lib/reference.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { parsePlatform, parseTarget } = require('../lib/target.cjs')
const { renderTemplate } = require('../lib/template.cjs')

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
      // model.Tagged.Tags() sorts them.
      model.referenceAsTags = tags.length ? [...tags].sort().map(t => `${refPath}:${t}`) : null
      if (format.type === 'json') out.raw(goJSON(model, '  ') + '\n')
      else out.raw(renderTemplate(format.template, JSON.parse(goJSON(model))))
    }
    if (v['export-manifest'] !== '')
      fs.writeFileSync(v['export-manifest'], packed.content, { mode: 0o666 })
    return 0
  }
}

module.exports = { pushCmd }
