'use strict'
// The Go template subset used by --format go-template.

const { CLIError } = require('./errors.cjs')
const { goFmtV, goJSON, goQuote } = require('./go.cjs')

// A small subset of Go templates: {{.a.b}}, {{json .a}}, {{println .a}}.
function renderTemplate(tmpl, data) {
  return tmpl.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, expr) => {
    const m = /^(?:(json|print|println)\s+)?(\.[\w.]*)$/.exec(expr)
    if (!m)
      throw new CLIError(
        `template: output:1: function ${goQuote(expr.split(/\s+/)[0])} not defined`
      )
    let val = data
    for (const part of m[2].split('.').filter(Boolean)) val = val == null ? undefined : val[part]
    if (m[1] === 'json') return goJSON(val)
    const s =
      val === undefined || val === null
        ? '<no value>'
        : typeof val === 'object'
          ? goFmtV(val)
          : String(val)
    return m[1] === 'println' ? s + '\n' : s
  })
}

module.exports = { renderTemplate }
