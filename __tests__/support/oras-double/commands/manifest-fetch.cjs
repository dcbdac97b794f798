'use strict'
// oras manifest fetch

const fs = require('node:fs')
const { CLIError, cliError, wrapErr } = require('../lib/errors.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags, usageOf } = require('../lib/flags.cjs')
const { goJSON, goQuote } = require('../lib/go.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const { newClient, parseFormat, readPasswordOptions } = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { parseTarget } = require('../lib/target.cjs')
const { renderTemplate } = require('../lib/template.cjs')

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

module.exports = { manifestFetchCmd }
