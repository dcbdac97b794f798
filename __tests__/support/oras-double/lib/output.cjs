'use strict'
// stdout/stderr printing, transfer status lines and --debug logging.

const { ANNOTATION_TITLE } = require('./constants.cjs')
const { shortDigest } = require('./go.cjs')

const out = {
  lines: [],
  print(...parts) {
    process.stdout.write(parts.join(' ') + '\n')
  },
  raw(s) {
    process.stdout.write(s)
  },
  err(s) {
    process.stderr.write(s)
  }
}

function printStatus(printer, desc, status) {
  const title = desc.annotations && desc.annotations[ANNOTATION_TITLE]
  if (title !== undefined) out.print(status, shortDigest(desc), title)
  else if (printer.verbose) out.print(status, shortDigest(desc), desc.mediaType)
}

// Set once the command line is parsed (--debug).
const debug = { enabled: false, counter: 0 }
function debugLog(text) {
  if (!debug.enabled) return
  const ts = new Date().toISOString()
  out.err(`[${ts}][DEBUG]: ${text}\n`)
}

module.exports = { debug, debugLog, out, printStatus }
