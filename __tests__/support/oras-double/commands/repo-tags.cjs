'use strict'
// oras repo tags

const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags } = require('../lib/flags.cjs')
const { goJSON } = require('../lib/go.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const { newClient, parseFormat, readPasswordOptions } = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { parseTarget } = require('../lib/target.cjs')
const { renderTemplate } = require('../lib/template.cjs')

const repoTagsCmd = {
  name: 'tags',
  use: 'tags [flags] <name>',
  short: 'Show tags of the target repository',
  long: 'Show tags of the target repository\n\nExample - Show tags of the target repository:\n  oras repo tags localhost:5000/hello\n',
  flags: [
    ...COMMON_FLAGS,
    { name: 'last', type: 'string', usage: 'start after the tag specified by `last`' },
    {
      name: 'exclude-digest-tags',
      type: 'bool',
      usage: "[Preview] exclude all digest-like tags such as 'sha256-aaaa...'"
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
    checkArgs(
      this,
      'oras repo tags',
      p.args,
      'exactly',
      1,
      'the target repository to list tags from'
    )
    const target = parseTarget(v, p.args[0])
    if (!target.isOCILayout) readPasswordOptions(v)
    const format = parseFormat(v, ['text', 'json', 'go-template'])
    let tags
    if (target.isOCILayout) {
      tags = new OCILayoutStore(target.path, false).tags()
    } else {
      const client = newClient(v, p.changed, target.ref.registry, [])
      this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
      tags = await new RemoteRepository(client, target.ref).tags()
    }
    if (v.last) tags = tags.filter(t => t > v.last)
    if (v['exclude-digest-tags']) tags = tags.filter(t => !/^[a-z0-9]+-[a-f0-9]{32,}$/.test(t))
    if (format.type === 'text') for (const t of tags) out.print(t)
    else if (format.type === 'json') out.raw(goJSON({ tags }, '  ') + '\n')
    else out.raw(renderTemplate(format.template, { tags }))
    return 0
  }
}

module.exports = { repoTagsCmd }
