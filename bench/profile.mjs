// Summarises the CPU profiles of profiled bench runs (BENCH_PROFILE=1 npm run bench, which runs
// the action under `node --cpu-prof` and writes one .cpuprofile per thread into
// bench/results/profiles/<row>-<n>/): self time by function and by source file, per thread,
// mapped through dist/index.js.map back to src/ and node_modules/. With several run
// directories, the figures are per run (the sum divided by the number of runs).
//
// Samples are taken on wall-clock time: a thread that is runnable but waiting for a core (a
// busy machine, or two busy threads on two cores with the threadpool) is sampled where it
// stopped. So each entry is also given as CPU ms: its share of the thread's busy samples times
// the CPU seconds the thread really used (run.json, which the bench writes beside the profiles).
// What a profile cannot show: the libuv threadpool (zlib's inflate, fs reads and writes) and
// V8's platform threads (concurrent GC marking, compilation) run no JavaScript and are not
// sampled; run.json has their CPU seconds, and the garbage collections (--trace-gc).
//
// Usage: node bench/profile.mjs [--top N] <run dir or .cpuprofile>...
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { SourceMap } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
let top = 25
const inputs = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i])
  else inputs.push(args[i])
}
if (inputs.length === 0) {
  process.stderr.write('usage: node bench/profile.mjs [--top N] <run dir or .cpuprofile>...\n')
  process.exit(2)
}

const maps = new Map()
/** The source map of a bundled file (dist/index.js.map), or null. */
function sourceMap(url) {
  if (!maps.has(url)) {
    let map = null
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')))
    } catch {
      // not a file with a map
    }
    maps.set(url, map)
  }
  return maps.get(url)
}

/** Where a call frame's function is: its original source file and line, when a map knows it. */
function where(frame) {
  const { url, lineNumber, columnNumber } = frame
  if (!url) return { file: '(native or V8)', line: 0 }
  if (url.startsWith('file:')) {
    const map = sourceMap(url)
    const entry = map?.findEntry(lineNumber, columnNumber)
    if (entry?.originalSource) {
      const file = entry.originalSource.replace(/^(webpack:\/\/[^/]*\/)?(\.\.?\/)*/, '')
      return { file, line: entry.originalLine + 1 }
    }
    return { file: path.relative(process.cwd(), fileURLToPath(url)), line: lineNumber + 1 }
  }
  return { file: url, line: lineNumber + 1 }
}

/** The thread a profile is of: node names them CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile. */
function threadOf(file) {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file))
  return m && m[1] === '0' ? 'main' : 'workers'
}

/** Self milliseconds by function and by file, plus totals, for one .cpuprofile. */
function analyse(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map(n => [n.id, n]))
  const self = new Map()
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i + 1] is the time from sample i to the next: spent where sample i was taken.
    const ms = (timeDeltas[i + 1] ?? 0) / 1000
    self.set(samples[i], (self.get(samples[i]) ?? 0) + ms)
  }
  const byFunction = new Map()
  const byFile = new Map()
  let total = 0
  let idle = 0
  for (const [id, ms] of self) {
    const frame = nodes.get(id).callFrame
    total += ms
    const name = frame.functionName || '(anonymous)'
    if (name === '(idle)') {
      idle += ms
      continue
    }
    const w = where(frame)
    const special = name.startsWith('(') && !frame.url
    const fileKey = special ? name : w.file
    const fnKey = special ? name : `${name}  ${w.file}${w.line ? `:${w.line}` : ''}`
    byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + ms)
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + ms)
  }
  return { total, idle, busy: total - idle, byFunction, byFile, samples: samples.length }
}

function profilesIn(input) {
  if (statSync(input).isDirectory())
    return readdirSync(input)
      .filter(f => f.endsWith('.cpuprofile'))
      .map(f => path.join(input, f))
  return [input]
}

const runs = inputs.length
const threads = {}
/** Sums over the runs of run.json: CPU seconds per thread kind, garbage collections. */
const cpuByThread = {}
const gc = {}
let measured = 0
for (const input of inputs) {
  try {
    const run = JSON.parse(readFileSync(path.join(input, 'run.json'), 'utf8'))
    measured++
    cpuByThread.total = (cpuByThread.total ?? 0) + run.cpuS
    for (const [k, v] of Object.entries(run.threads ?? {}))
      cpuByThread[k] = (cpuByThread[k] ?? 0) + v
    for (const [k, v] of Object.entries(run.gc ?? {})) {
      const g = (gc[k] ??= { count: 0, pauseMs: 0 })
      g.count += v.count
      g.pauseMs += v.pauseMs
    }
  } catch {
    // a bare profile: no CPU figures
  }
}
/** CPU ms per run of a thread kind, when every run has run.json. */
const threadCpuMs = kind =>
  measured === runs && cpuByThread[kind === 'main' ? 'main' : 'WorkerThread'] !== undefined
    ? (1000 * cpuByThread[kind === 'main' ? 'main' : 'WorkerThread']) / runs
    : undefined
for (const input of inputs) {
  for (const file of profilesIn(input)) {
    const kind = threadOf(file)
    const a = analyse(file)
    const t = (threads[kind] ??= {
      profiles: 0,
      total: 0,
      idle: 0,
      busy: 0,
      byFunction: new Map(),
      byFile: new Map()
    })
    t.profiles++
    t.total += a.total
    t.idle += a.idle
    t.busy += a.busy
    for (const [k, v] of a.byFunction) t.byFunction.set(k, (t.byFunction.get(k) ?? 0) + v)
    for (const [k, v] of a.byFile) t.byFile.set(k, (t.byFile.get(k) ?? 0) + v)
  }
}

const ms = x => (x / runs).toFixed(0)
const pct = (x, of) => `${((100 * x) / of).toFixed(1)} %`
function tableOf(title, map, busy, cpuMs) {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top)
  const lines = [
    `| ${title} | sampled ms | % of busy samples | ≈ CPU ms |`,
    '| --- | ---: | ---: | ---: |'
  ]
  for (const [k, v] of rows) {
    const cpu = cpuMs === undefined ? '-' : ((v / busy) * cpuMs).toFixed(0)
    lines.push(`| \`${k.replace(/\|/g, '\\|')}\` | ${ms(v)} | ${pct(v, busy)} | ${cpu} |`)
  }
  return lines.join('\n')
}

const out = [
  `Profiles of ${runs} run${runs > 1 ? 's' : ''} (${inputs.map(i => path.basename(i)).join(', ')}); figures per run.`,
  ''
]
if (measured === runs) {
  const perRun = Object.entries(cpuByThread)
    .map(([k, v]) => `${k} ${(v / runs).toFixed(2)} s`)
    .join(', ')
  const gcs = Object.entries(gc)
    .map(
      ([k, v]) =>
        `${k} × ${(v.count / runs).toFixed(0)} (${(v.pauseMs / runs).toFixed(0)} ms paused)`
    )
    .join(', ')
  out.push(
    `CPU seconds by thread (libuv-worker: the threadpool, i.e. zlib and fs; V8Worker: V8's platform threads, i.e. concurrent GC and compilation; WorkerThread: worker_threads; v8:ProfEvntProc: the profiler itself): ${perRun}.`,
    '',
    `Garbage collections (all isolates): ${gcs || 'none reported'}.`,
    ''
  )
}
for (const kind of ['main', 'workers']) {
  const t = threads[kind]
  if (!t) continue
  out.push(
    `## ${kind === 'main' ? 'Main thread' : `Worker threads (${t.profiles / runs} per run)`}: ${ms(t.busy)} ms busy of ${ms(t.total)} ms profiled (idle ${ms(t.idle)} ms)`,
    '',
    tableOf('function (self time)', t.byFunction, t.busy, threadCpuMs(kind)),
    '',
    tableOf('file (self time)', t.byFile, t.busy, threadCpuMs(kind)),
    ''
  )
}
process.stdout.write(`${out.join('\n')}\n`)
