#!/usr/bin/env node
'use strict'
// oras 1.3.2 (linux/amd64 build of the CLI, re-created on node builtins): one module per
// command in commands/, the shared machinery in lib/. release.ts bundles them into the single
// `oras` file of the release archive.

require('./lib/cli.cjs').main()
