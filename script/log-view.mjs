// Turns the workflow commands an action prints (::group::, ::debug::, ::error::, ::add-mask::,
// ...) into what a runner's log view shows, for `npm run local`: groups become headings, debug
// lines are hidden unless asked for, errors, warnings and notices read as sentences, masked values
// are replaced by *** in everything printed after they were masked, and state/output commands
// disappear. The commands' syntax and escaping are @actions/core's (command.ts).

const QUIET = new Set([
  'set-output',
  'save-state',
  'set-env',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'echo'
])
const LEVELS = { error: 'Error', warning: 'Warning', notice: 'Notice' }

/** %25 %0D %0A in data; also %3A %2C in property values. */
function unescape(text, property = false) {
  let out = text.replace(/%0D/g, '\r').replace(/%0A/g, '\n')
  if (property) out = out.replace(/%3A/g, ':').replace(/%2C/g, ',')
  return out.replace(/%25/g, '%')
}

/**
 * @param {{ debug?: boolean, color?: boolean, write: (line: string) => void }} opts
 * @returns {{ line: (text: string) => void, mask: (text: string) => string }}
 */
export function createLogView(opts) {
  const masks = []
  let stopToken
  const paint = (code, text) => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text)
  const mask = text => {
    let out = text
    for (const secret of masks) out = out.split(secret).join('***')
    return out
  }
  const print = text => {
    for (const l of mask(text).split('\n')) opts.write(l)
  }

  function line(raw) {
    const text = raw.replace(/\r$/, '')
    if (stopToken !== undefined) {
      if (text === `::${stopToken}::`) stopToken = undefined
      else print(text)
      return
    }
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(text)
    if (!m) return print(text)
    const [, command, props = '', rawData] = m
    const data = unescape(rawData)
    switch (command) {
      case 'add-mask':
        // Longest first, so a secret that contains another is masked whole.
        if (data !== '' && !masks.includes(data)) {
          masks.push(data)
          masks.sort((a, b) => b.length - a.length)
        }
        return
      case 'group':
        return print(paint('1', `\n== ${data}`))
      case 'endgroup':
        return
      case 'debug':
        if (opts.debug) print(paint('2', `debug: ${data}`))
        return
      case 'stop-commands':
        stopToken = data
        return
      case 'error':
      case 'warning':
      case 'notice': {
        const where = props
          .split(',')
          .map(p => p.split('='))
          .filter(
            ([k, v]) => v !== undefined && ['file', 'line', 'col', 'title'].includes(k.trim())
          )
          .map(([k, v]) => `${k.trim()} ${unescape(v, true)}`)
        const suffix = where.length > 0 ? ` (${where.join(', ')})` : ''
        const color = command === 'error' ? '31' : command === 'warning' ? '33' : '36'
        return print(paint(color, `${LEVELS[command]}: ${data}${suffix}`))
      }
      default:
        if (QUIET.has(command)) return
        return print(text)
    }
  }

  return { line, mask }
}
