'use strict'
// Flag definitions and parsing with pflag semantics; help and argument-count texts.

const { CLIError, cliError } = require('./errors.cjs')
const { goQuote } = require('./go.cjs')
const { out } = require('./output.cjs')

function flagDefs(list) {
  const byName = new Map()
  const byShort = new Map()
  for (const f of list) {
    byName.set(f.name, f)
    if (f.short) byShort.set(f.short, f)
  }
  return { list, byName, byShort }
}

const COMMON_FLAGS = [
  { name: 'debug', short: 'd', type: 'bool', usage: 'output debug logs (implies --no-tty)' },
  { name: 'no-tty', type: 'bool', usage: '[Preview] do not show progress output' }
]
const HELP_FLAG = { name: 'help', short: 'h', type: 'bool', usage: 'help for %s' }

function remoteFlags(withStdin) {
  const f = [
    { name: 'username', short: 'u', type: 'string', usage: 'registry username' },
    { name: 'password', short: 'p', type: 'string', usage: 'registry password or identity token' },
    { name: 'insecure', type: 'bool', usage: 'allow connections to SSL registry without certs' },
    {
      name: 'plain-http',
      type: 'bool',
      usage: 'allow insecure connections to registry without SSL check'
    },
    {
      name: 'ca-file',
      type: 'string',
      usage: 'server certificate authority file for the remote registry'
    },
    {
      name: 'cert-file',
      type: 'string',
      usage: '[Preview] client certificate file for the remote registry'
    },
    {
      name: 'key-file',
      type: 'string',
      usage: '[Preview] client private key file for the remote registry'
    },
    {
      name: 'resolve',
      type: 'stringArray',
      usage: 'customized DNS for registry, formatted in `host:port:address[:address_port]`'
    },
    {
      name: 'registry-config',
      type: 'stringArray',
      usage: '`path` of the authentication file for registry'
    },
    { name: 'header', short: 'H', type: 'stringArray', usage: 'add custom headers to requests' }
  ]
  if (withStdin)
    f.push({
      name: 'password-stdin',
      type: 'bool',
      usage: 'read password or identity token from stdin'
    })
  return f
}

function targetFlags() {
  return [
    { name: 'oci-layout', type: 'bool', usage: 'set target as an OCI image layout' },
    {
      name: 'oci-layout-path',
      type: 'string',
      usage: 'set the path for the OCI image layout target'
    }
  ]
}

function parseFlags(cmd, argv) {
  const defs = flagDefs([...cmd.flags, HELP_FLAG])
  const values = {}
  const changed = new Set()
  const positional = []
  for (const f of defs.list) {
    if (f.type === 'stringArray') values[f.name] = []
    else if (f.default !== undefined) values[f.name] = f.default
    else if (f.type === 'bool') values[f.name] = false
    else if (f.type === 'int') values[f.name] = 0
    else values[f.name] = ''
  }
  const setValue = (f, raw, display) => {
    if (f.type === 'bool') {
      const v = parseGoBool(raw)
      if (v === undefined) {
        throw new CLIError(
          `invalid argument ${goQuote(raw)} for ${goQuote(display)} flag: strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`
        )
      }
      values[f.name] = v
    } else if (f.type === 'int') {
      if (!/^[+-]?\d+$/.test(raw)) {
        throw new CLIError(
          `invalid argument ${goQuote(raw)} for ${goQuote(display)} flag: strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`
        )
      }
      values[f.name] = parseInt(raw, 10)
    } else if (f.type === 'stringArray') {
      values[f.name].push(raw)
    } else {
      values[f.name] = raw
    }
    changed.add(f.name)
    if (f.deprecated) out.err(`Flag --${f.name} has been deprecated, ${f.deprecated}\n`)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--') && a.length > 2) {
      const body = a.slice(2)
      const eq = body.indexOf('=')
      const name = eq >= 0 ? body.slice(0, eq) : body
      const f = defs.byName.get(name)
      if (!f) throw new CLIError(`unknown flag: --${name}`)
      if (eq >= 0) setValue(f, body.slice(eq + 1), '--' + name)
      else if (f.type === 'bool') setValue(f, 'true', '--' + name)
      else if (i + 1 < argv.length) setValue(f, argv[++i], '--' + name)
      else throw new CLIError(`flag needs an argument: --${name}`)
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      let shorts = a.slice(1)
      while (shorts.length > 0) {
        const c = shorts[0]
        const f = defs.byShort.get(c)
        if (!f) throw new CLIError(`unknown shorthand flag: '${c}' in -${shorts}`)
        if (shorts.length > 2 && shorts[1] === '=') {
          setValue(f, shorts.slice(2), '-' + c)
          shorts = ''
        } else if (f.type === 'bool') {
          setValue(f, 'true', '-' + c)
          shorts = shorts.slice(1)
        } else if (shorts.length > 1) {
          setValue(f, shorts.slice(1), '-' + c)
          shorts = ''
        } else if (i + 1 < argv.length) {
          setValue(f, argv[++i], '-' + c)
          shorts = ''
        } else {
          throw new CLIError(`flag needs an argument: '${c}' in -${c}`)
        }
      }
      continue
    }
    positional.push(a)
  }
  return { values, changed, args: positional }
}

function parseGoBool(s) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  return undefined
}

function helpText(cmd, pathName) {
  const lines = []
  lines.push((cmd.long || cmd.short).replace(/\n+$/, ''))
  lines.push('')
  lines.push('Usage:')
  lines.push(`  ${pathName.split(' ').slice(0, -1).concat([cmd.use]).join(' ')}`)
  const flags = [...cmd.flags, HELP_FLAG]
    .filter(f => !f.hidden && !f.deprecated)
    .sort((a, b) => a.name.localeCompare(b.name))
  const left = flags.map(f => {
    const t =
      f.type === 'bool'
        ? ''
        : f.type === 'int'
          ? ' int'
          : f.type === 'stringArray'
            ? ' stringArray'
            : ' string'
    return (f.short ? `  -${f.short}, ` : '      ') + `--${f.name}${t}`
  })
  const width = Math.max(...left.map(l => l.length))
  lines.push('')
  lines.push('Flags:')
  flags.forEach((f, i) => {
    let usage = f.usage.replace('%s', pathName.split(' ').pop())
    if (f.default !== undefined && f.default !== false && f.default !== '') {
      usage += f.type === 'string' ? ` (default ${goQuote(f.default)})` : ` (default ${f.default})`
    }
    lines.push(left[i].padEnd(width + 3) + usage)
  })
  return lines.join('\n') + '\n'
}

function usageOf(cmd, pathName) {
  return `${pathName.split(' ').slice(0, -1).join(' ')} ${cmd.use}`
}

function checkArgs(cmd, pathName, args, kind, n, what) {
  const ok = kind === 'exactly' ? args.length === n : args.length >= n
  if (!ok) {
    const text = `${kind} ${n} argument${n === 1 ? '' : 's'}`
    throw cliError(`${goQuote(pathName)} requires ${text} but got ${args.length}`, {
      usage: usageOf(cmd, pathName),
      recommendation: `Please specify ${text} as ${what}. Run "${pathName} -h" for more options and examples`
    })
  }
}

module.exports = {
  COMMON_FLAGS,
  checkArgs,
  helpText,
  parseFlags,
  remoteFlags,
  targetFlags,
  usageOf
}
