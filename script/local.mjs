#!/usr/bin/env node
// Runs the built action (dist/index.js) on this machine the way a GitHub runner does: inputs as
// INPUT_* variables, a tool cache, a temp dir, an outputs file and a job summary, all under
// .cache/. No runner needed. Its log reads as a runner's log view shows it.
//
//   npm run local -- [--variant lts] [--hook-version latest] [--image oci-layout:./hook-bundle-oci]
//                    [--download-url URL] [--push false] [--<any action input> VALUE ...] [--debug]
//
// Defaults: hook release "latest", variant "lts", pushed into the local OCI layout
// ./hook-bundle-oci, bundle built in ./hook-bundle/<variant> on every run (skip-published false;
// pass --skip-published true to try the check). The registry password is read from
// HOOK_BUNDLE_PASSWORD, never from the command line. --debug (or RUNNER_DEBUG=1) shows the
// debug log. It downloads the hook release and oras from github.com; without a route there, use
// mirrors: --download-url BASE (assets at BASE/<tag>/<asset>) and HOOK_BUNDLE_ORAS_MIRROR.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createLogView } from './log-view.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const inputs = {
  'hook-version': 'latest',
  variant: 'lts',
  image: 'oci-layout:./hook-bundle-oci',
  // This script promises a bundle directory on every run; a skipped run would build none.
  'skip-published': 'false',
  password: process.env.HOOK_BUNDLE_PASSWORD ?? ''
}
const args = process.argv.slice(2)
let debug = process.env.RUNNER_DEBUG === '1'
for (let i = 0; i < args.length; i++) {
  const arg = args[i]
  if (arg === '--debug') {
    debug = true
    continue
  }
  if (arg === '-h' || arg === '--help') {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(1, 14)
        .join('\n')
        .replace(/^\/\/ ?/gm, '')
    )
    process.exit(0)
  }
  const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(arg)
  if (!m || m[1] === 'password') {
    console.error(
      `local: unexpected argument ${JSON.stringify(arg)}; use --<input> VALUE (password: HOOK_BUNDLE_PASSWORD)`
    )
    process.exit(2)
  }
  const value = m[2] ?? args[++i]
  if (value === undefined) {
    console.error(`local: --${m[1]} needs a value`)
    process.exit(2)
  }
  inputs[m[1]] = value
}

const cache = path.join(root, '.cache', 'local')
const outputs = path.join(cache, 'outputs')
const summary = path.join(cache, 'summary.md')
for (const dir of ['tool-cache', 'temp']) mkdirSync(path.join(cache, dir), { recursive: true })
writeFileSync(outputs, '')
writeFileSync(summary, '')
if (inputs['bundle-dir'] === undefined && inputs.variant) {
  // The action wants a new or empty bundle-dir; this one belongs to the script, so start afresh.
  inputs['bundle-dir'] = path.join('hook-bundle', inputs.variant)
  rmSync(inputs['bundle-dir'], { recursive: true, force: true })
}

const env = { ...process.env }
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
Object.assign(env, {
  RUNNER_TOOL_CACHE: env.RUNNER_TOOL_CACHE ?? path.join(cache, 'tool-cache'),
  RUNNER_TEMP: path.join(cache, 'temp'),
  GITHUB_OUTPUT: outputs,
  GITHUB_STEP_SUMMARY: summary,
  GITHUB_ACTOR: env.GITHUB_ACTOR ?? env.USER ?? 'local',
  GITHUB_REPOSITORY: env.GITHUB_REPOSITORY ?? 'local/hook-images'
})
if (debug) env.RUNNER_DEBUG = '1'
const child = spawn(process.execPath, [path.join(root, 'dist', 'index.js')], {
  env,
  stdio: ['ignore', 'pipe', 'pipe']
})
// Cancelling the script cancels the action, which then cleans up as on a runner.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
// One view for both streams: a value masked on stdout is masked on stderr too.
const color = process.stdout.isTTY && !process.env.NO_COLOR
const out = createLogView({ debug, color, write: l => process.stdout.write(`${l}\n`) })
const lines = (stream, handle) =>
  new Promise(resolve => createInterface({ input: stream }).on('line', handle).on('close', resolve))
// A download that never got through (no route, DNS, a stalled host) ends the run with the
// action's one error line; this script adds the one line saying what to do about it here.
let unreachable
const watch = line => {
  const m =
    /could not download (.+?) from (https?:\/\/[^/\s]+)\S* after \d+ attempts|downloading (.+?) from (https?:\/\/[^/\s]+)\S* took longer than download-timeout/.exec(
      line
    )
  if (m) unreachable = { what: m[1] ?? m[3], host: m[2] ?? m[4] }
  out.line(line)
}
const status = await Promise.all([
  lines(child.stdout, watch),
  lines(child.stderr, l => process.stderr.write(`${out.mask(l)}\n`)),
  new Promise(resolve => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
]).then(([, , code]) => code)

console.log('\noutputs:')
const text = readFileSync(outputs, 'utf8')
for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
  console.log(out.mask(`  ${m[1]}: ${m[3]}`))
console.log(`job summary: ${summary}`)
if (status !== 0 && unreachable) {
  const fix = unreachable.what.startsWith('oras')
    ? 'point HOOK_BUNDLE_ORAS_MIRROR at a mirror of the oras releases (<mirror>/v<V>/oras_<V>_<os>_<arch>.tar.gz and oras_<V>_checksums.txt), or give --oras-url URL --oras-checksum SHA256, or build only with --push false'
    : 'give a mirror of the release assets with --download-url BASE (fetched as BASE/<tag>/checksum.txt and BASE/<tag>/<asset>); to push, oras also needs HOOK_BUNDLE_ORAS_MIRROR (or --push false to build only)'
  console.error(
    out.mask(`local: ${unreachable.what} could not be fetched from ${unreachable.host}: ${fix}`)
  )
}
process.exit(status)
