'use strict'
// oras tag (cmd/oras/root/tag.go; oras-go TagN / Tag): a registry gets the source manifest's
// bytes fetched once and PUT under every new tag, no blob moves; an OCI layout tags the
// resolved descriptor in its index.json.

const { CLIError, cliError } = require('../lib/errors.cjs')
const { COMMON_FLAGS, checkArgs, remoteFlags, targetFlags, usageOf } = require('../lib/flags.cjs')
const { runLimited } = require('../lib/copy.cjs')
const { OCILayoutStore } = require('../lib/oci-layout.cjs')
const { newClient, readPasswordOptions } = require('../lib/options.cjs')
const { out } = require('../lib/output.cjs')
const { RemoteRepository } = require('../lib/remote.cjs')
const { parseTarget } = require('../lib/target.cjs')

const tagCmd = {
  name: 'tag',
  use: 'tag [flags] <name>{:<tag>|@<digest>} <new_tag> [...]',
  short: 'Tag a manifest in a registry or an OCI image layout',
  long: "Tag a manifest in a registry or an OCI image layout\n\nExample - Tag the manifest 'v1.0.1' in 'localhost:5000/hello' to 'v1.0.2':\n  oras tag localhost:5000/hello:v1.0.1 v1.0.2\n\nExample - Tag the manifest with digest sha256:9463e0d192846bc994279417b50114606712d516aab45f4d8b31cbc6e46aad71 to 'v1.0.2'\n  oras tag localhost:5000/hello@sha256:9463e0d192846bc994279417b50114606712d516aab45f4d8b31cbc6e46aad71 v1.0.2\n\nExample - Tag the manifest 'v1.0.1' in 'localhost:5000/hello' to 'v1.0.2', 'latest'\n  oras tag localhost:5000/hello:v1.0.1 v1.0.2 latest\n\nExample - Tag the manifest 'v1.0.1' in 'localhost:5000/hello' to 'v1.0.1', 'v1.0.2', 'latest' with concurrency level tuned:\n  oras tag --concurrency 1 localhost:5000/hello:v1.0.1 v1.0.2 latest\n\nExample - Tag the manifest 'v1.0.1' to 'v1.0.2' in an OCI image layout folder 'layout-dir':\n  oras tag --oci-layout layout-dir:v1.0.1 v1.0.2\n",
  flags: [
    ...COMMON_FLAGS,
    ...targetFlags(),
    ...remoteFlags(true),
    { name: 'concurrency', type: 'int', default: 5, usage: 'concurrency level' },
    {
      name: 'verbose',
      short: 'v',
      type: 'bool',
      default: true,
      usage: 'print status output for unnamed blobs',
      deprecated: 'and will be removed in a future release.'
    }
  ],
  async run(p) {
    const v = p.values
    if (p.args.length > 0 && (p.args[0] === 'list' || p.args[0] === 'ls')) {
      const container = v['oci-layout'] ? 'an OCI image layout' : 'a repository'
      throw cliError('there is no "list" sub-command for "oras tag" command', {
        usage: usageOf(this, 'oras tag'),
        recommendation: `If you want to list available tags in ${container}, use "oras repo tags"`
      })
    }
    checkArgs(
      this,
      'oras tag',
      p.args,
      'at least',
      1,
      'the artifact to be retagged and the tags to be added'
    )
    let target
    try {
      target = parseTarget(v, p.args[0])
    } catch (e) {
      if (!v['oci-layout']) e.message = `unable to add tag for '${p.args[0]}': ${e.message}`
      throw e
    }
    const dsts = p.args.slice(1)
    if (!target.isOCILayout) readPasswordOptions(v)
    if (target.reference === '') {
      throw cliError(`"${p.args[0]}": no tag or digest specified`, {
        usage: usageOf(this, 'oras tag'),
        recommendation: `Please specify a reference in the form of "<name>:<tag>" or "<name>@<digest>". Run "oras tag -h" for more options and examples`
      })
    }
    if (dsts.length === 0) throw new CLIError('dstReferences cannot be empty: missing reference')
    const type = target.isOCILayout ? 'oci-layout' : 'registry'
    let announced = false
    const tagging = desc => {
      if (announced) return
      announced = true
      out.print('Tagging', `[${type}] ${target.path}@${desc.digest}`)
    }
    const limit = v.concurrency > 0 ? v.concurrency : 5

    if (target.isOCILayout) {
      const store = new OCILayoutStore(target.path, false)
      const desc = store.resolve(target.reference)
      await runLimited(dsts, limit, async dst => {
        tagging(desc)
        try {
          store.tag(desc, dst)
        } catch (e) {
          if (dsts.length > 1)
            e.message = `failed to tag ${target.reference} as ${dst}: ${e.message}`
          throw e
        }
        out.print('Tagged', dst)
      })
      return 0
    }

    const client = newClient(v, p.changed, target.ref.registry, [])
    this.errCtx = { registry: target.ref.registry, configPath: client.configPath }
    const repo = new RemoteRepository(client, target.ref)
    let fetched
    try {
      fetched = await repo.fetchManifest(target.reference)
    } catch (e) {
      if (e.notFound) {
        const sep = target.reference.startsWith('sha256:') ? '@' : ':'
        e.message = `${target.path}${sep}${target.reference}: not found`
      }
      throw e
    }
    await runLimited(dsts, limit, async dst => {
      tagging(fetched.desc)
      await repo.pushManifest(fetched.desc, fetched.content, dst)
      out.print('Tagged', dst)
    })
    return 0
  }
}

module.exports = { tagCmd }
