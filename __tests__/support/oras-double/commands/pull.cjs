'use strict'
// oras pull

const fs = require('node:fs')
const path = require('node:path')
const { ANNOTATION_TITLE, ANNOTATION_UNPACK } = require('../lib/constants.cjs')
const { runLimited } = require('../lib/copy.cjs')
const { CLIError, cliError, wrapErr } = require('../lib/errors.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags, usageOf } = require('../lib/flags.cjs')
const { goJSON, goQuote, sha256Hex, sortedMap } = require('../lib/go.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const { newClient, parseFormat, readPasswordOptions } = require('../lib/options.cjs')
const { out, printStatus } = require('../lib/output.cjs')
const { parseFileRef } = require('../lib/reference.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { extractTarGz } = require('../lib/tar.cjs')
const { parseTarget } = require('../lib/target.cjs')
const { renderTemplate } = require('../lib/template.cjs')

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

module.exports = { pullCmd }
