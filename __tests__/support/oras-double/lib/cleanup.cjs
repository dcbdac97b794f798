'use strict'
// Temporary files removed when the process ends.

const fs = require('node:fs')

const cleanupPaths = []
function cleanup() {
  for (const p of cleanupPaths.splice(0)) {
    try {
      fs.rmSync(p, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
}

module.exports = { cleanup, cleanupPaths }
