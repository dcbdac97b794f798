'use strict'
// The command tree, dispatch, help texts and process exit (cobra).

const { loginCmd } = require('../commands/login.cjs')
const { logoutCmd } = require('../commands/logout.cjs')
const { manifestFetchCmd } = require('../commands/manifest-fetch.cjs')
const { manifestIndexCreateCmd } = require('../commands/manifest-index-create.cjs')
const { pullCmd } = require('../commands/pull.cjs')
const { pushCmd } = require('../commands/push.cjs')
const { repoTagsCmd } = require('../commands/repo-tags.cjs')
const { tagCmd } = require('../commands/tag.cjs')
const { versionCmd } = require('../commands/version.cjs')
const { cleanup } = require('./cleanup.cjs')
const { CLIError, handleTargetError } = require('./errors.cjs')
const { helpText, parseFlags } = require('./flags.cjs')
const { goQuote } = require('./go.cjs')
const { agents } = require('./http.cjs')
const { debug, out } = require('./output.cjs')

const manifestIndexGroup = {
  name: 'index',
  use: 'index [command]',
  short: '[Experimental] Index operations',
  long: '[Experimental] Index operations',
  subcommands: [manifestIndexCreateCmd]
}
const manifestGroup = {
  name: 'manifest',
  use: 'manifest [command]',
  short: 'Manifest operations',
  long: 'Manifest operations',
  subcommands: [manifestFetchCmd, manifestIndexGroup]
}
const repoGroup = {
  name: 'repo',
  use: 'repo [command]',
  short: 'Repository operations',
  long: 'Repository operations',
  aliases: ['repository'],
  subcommands: [repoTagsCmd]
}
const rootCmd = {
  name: 'oras',
  use: 'oras [command]',
  short: '',
  subcommands: [pullCmd, pushCmd, loginCmd, logoutCmd, versionCmd, tagCmd, manifestGroup, repoGroup]
}

function groupHelp(group, pathName) {
  const subs = group.subcommands
  const width = Math.max(...subs.map(s => s.name.length), 10)
  const lines = []
  if (group.long) lines.push(group.long, '')
  lines.push('Usage:', `  ${pathName} [command]`, '', 'Available Commands:')
  for (const s of subs) lines.push(`  ${s.name.padEnd(width + 1)}${s.short}`)
  lines.push(
    '',
    'Flags:',
    `  -h, --help   help for ${pathName.split(' ').pop()}`,
    '',
    `Use "${pathName} [command] --help" for more information about a command.`
  )
  return lines.join('\n') + '\n'
}

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
  }
  return d[a.length][b.length]
}

function unknownCommand(arg, group, pathName) {
  const lower = arg.toLowerCase()
  const suggestions = group.subcommands
    .map(s => s.name)
    .filter(n => levenshtein(lower, n) <= 2 || n.startsWith(lower))
  let msg = `unknown command ${goQuote(arg)} for ${goQuote(pathName)}`
  if (suggestions.length)
    msg += '\n\nDid you mean this?\n' + suggestions.map(s => `\t${s}`).join('\n') + '\n'
  return new CLIError(msg)
}

async function execute(argv) {
  let node = rootCmd
  let pathName = 'oras'
  let rest = argv
  // walk the command tree; flags may only follow the leaf command
  while (node.subcommands) {
    const first = rest[0]
    if (first === undefined) {
      out.raw(node === rootCmd ? rootHelp() : groupHelp(node, pathName))
      return 0
    }
    if (first === '-h' || first === '--help' || first === 'help') {
      if (first === 'help' && rest[1] && node === rootCmd) {
        const sub = node.subcommands.find(s => s.name === rest[1])
        if (sub) {
          out.raw(
            sub.subcommands ? groupHelp(sub, `oras ${sub.name}`) : helpText(sub, `oras ${sub.name}`)
          )
          return 0
        }
      }
      out.raw(node === rootCmd ? rootHelp() : groupHelp(node, pathName))
      return 0
    }
    if (first.startsWith('-')) {
      const name = first.replace(/^-+/, '').split('=')[0]
      if (first.startsWith('--')) throw new CLIError(`unknown flag: --${name}`)
      throw new CLIError(`unknown shorthand flag: '${name[0]}' in ${first}`)
    }
    const sub = node.subcommands.find(s => s.name === first || (s.aliases || []).includes(first))
    if (!sub) {
      if (node === rootCmd) throw unknownCommand(first, node, pathName)
      out.raw(groupHelp(node, pathName))
      return 0
    }
    node = sub
    pathName += ' ' + sub.name
    rest = rest.slice(1)
  }
  const parsed = parseFlags(node, rest)
  if (parsed.values.help) {
    out.raw(helpText(node, pathName))
    return 0
  }
  debug.enabled = !!parsed.values.debug
  currentCmd = node
  return node.run(parsed)
}

function rootHelp() {
  const cmds = [
    ['attach', 'Attach files to an existing artifact'],
    ['backup', '[Experimental] Back up artifacts from a registry into an OCI image layout'],
    ['blob', 'Blob operations'],
    ['completion', 'Generate the autocompletion script for the specified shell'],
    ['cp', 'Copy artifacts from one target to another'],
    ['discover', 'Discover referrers of a manifest'],
    ['help', 'Help about any command'],
    ['login', 'Log in to a remote registry'],
    ['logout', 'Log out from a remote registry'],
    ['manifest', 'Manifest operations'],
    ['pull', 'Pull files from a registry or an OCI image layout'],
    ['push', 'Push files to a registry or an OCI image layout'],
    ['repo', 'Repository operations'],
    ['resolve', 'Resolves digest of the target artifact'],
    ['restore', '[Experimental] Restore artifacts to a registry from an OCI image layout'],
    ['tag', 'Tag a manifest in a registry or an OCI image layout'],
    ['version', 'Show the oras version information']
  ]
  const lines = ['Usage:', '  oras [command]', '', 'Available Commands:']
  for (const [n, s] of cmds) lines.push(`  ${n.padEnd(11)}${s}`)
  lines.push(
    '',
    'Flags:',
    '  -h, --help   help for oras',
    '',
    'Use "oras [command] --help" for more information about a command.'
  )
  return lines.join('\n') + '\n'
}

let currentCmd = null

function finish(code) {
  cleanup()
  for (const a of agents) a.destroy()
  process.exitCode = code
  setTimeout(() => process.exit(code), 1500).unref()
}

async function main() {
  let code
  try {
    code = await execute(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof CLIError)) {
      out.err(`Error: ${err && err.message ? err.message : String(err)}\n`)
    } else if (err.prefix) {
      out.err(`${err.prefix} ${err.message}\n`)
    } else {
      const isLayout = !!(currentCmd && currentCmd.errCtx === undefined)
      const ctx =
        currentCmd && currentCmd.errCtx
          ? currentCmd.errCtx
          : { isOCILayout: isLayout && !err.errResp && !err.basicCredNotFound && !err.notFound }
      const { prefix, message } = handleTargetError(err, ctx)
      out.err(`${prefix} ${message}\n`)
    }
    code = 1
  }
  finish(code)
}

process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

module.exports = { main }
