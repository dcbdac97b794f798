// npm run bench: the built action (dist/index.js, run as the runner runs it) against the
// original workflow's approach, on a hook-shaped release at real scale served from loopback.
// See bench/README.md for what each row measures.
//
// Environment: BENCH_RUNS (default 5) runs per row; BENCH_ROWS (comma list, default all) to
// measure only some rows while working; BENCH_NO_COMMIT=1 writes only bench/results/latest.json;
// BENCH_DIST=<path to index.js> measures another build of the action (A/B comparisons);
// BENCH_PROFILE=1 profiles every measured run of the action (node --cpu-prof, one .cpuprofile per
// thread, into bench/results/profiles/) and records its CPU seconds thread by thread; summarise
// with bench/profile.mjs. Profiled runs are slower: their figures are not comparable.
//
// Adding a row: one entry in ROWS below (how to run it, whether it is the action), and a target in
// verdicts() if it has one. Rows run in the order listed, rotated every round.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { BENCH_LARGE_RELEASE, BENCH_RELEASE, ensureRelease, expectedBundle } from './generate.mjs'

const ROOT = path.resolve(import.meta.dirname, '..')
const DIST = path.resolve(process.env.BENCH_DIST ?? path.join(ROOT, 'dist', 'index.js'))
const CACHE = path.join(ROOT, '.cache', 'bench')
const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? '5', 10) || 5)
/** Per-connection cap of the capped rows: roughly what one connection to a release host gets. */
const CAP_BYTES_PER_S = 32 * 1024 * 1024
/** Archives the action fetches at once (ARCHIVE_CONCURRENCY in src/bundle/make.ts). */
const CONNECTIONS = 4
const PROFILE = process.env.BENCH_PROFILE === '1'
const PROFILES = path.join(ROOT, 'bench', 'results', 'profiles')
const COMMIT = process.env.BENCH_NO_COMMIT !== '1' && !PROFILE
const NPROC = os.availableParallelism()
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']) || 100)
const PAGE = Number(sh('getconf', ['PAGESIZE']) || 4096)
const MiB = 1 << 20

const TARGETS = {
  // Issue 20: a cold run at the speed of its primitives.
  coldOverBaseline: 0.75,
  coldCpuOverPrimitives: 1.3,
  coldOverFloor: 2.0,
  cappedOverWire: 1.15,
  warmOverBaseline: 0.1,
  republishOverCold: 0.05,
  coldImageOverColdArtifact: 1.1,
  warmImageOverBaseline: 0.1,
  // Peak RSS of every action row, against node-floor's (what Node itself needs at this rate).
  peakRssOverNodeFloor: 1.2,
  largeRssGrowthMiB: 10,
  startupMs: 200
}

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

function log(line = '') {
  process.stdout.write(`${line}\n`)
}

// --- measuring one child process ---------------------------------------------------------------

/** CPU seconds of every child this process has reaped (with their own reaped descendants). */
function reapedCpu() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

/** Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat. */
function machineBusy() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
    const [user, nice, system, , , irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    return (user + nice + system + irq + softirq + steal) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

/** CPU seconds used so far by one live process (user + system), or by this process. */
function processCpu(pid) {
  if (pid === undefined) {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

function statusKiB(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8')
    )
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/** Resident KiB of `root` and all its descendants right now (Linux /proc). */
function treeRssKiB(root) {
  const parent = new Map()
  const rss = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(name), Number(f[1]))
      rss.set(Number(name), (Number(f[21]) * PAGE) / 1024)
    } catch {
      // gone meanwhile
    }
  }
  let total = 0
  for (const [pid, kib] of rss) {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) {
      if (p === root) {
        total += kib
        break
      }
    }
  }
  return total
}

/** Records the CPU seconds so far of every thread of `pid` (Linux /proc/<pid>/task) in `seen`. */
function threadCpu(pid, seen) {
  let tids
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      seen.set(Number(tid), { comm, cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK })
    } catch {
      // gone meanwhile: its last sample stands
    }
  }
}

/**
 * CPU seconds by kind of thread: `main` (the event loop), the others by their name
 * (`libuv-worker`: the threadpool, i.e. zlib and fs; `V8 DefaultWorke`: V8's platform threads,
 * i.e. concurrent GC and compilation; worker_threads by the name Node gives them). Sampled
 * every 10 ms: a thread's last 10 ms before it ends may be missed.
 */
function threadSummary(pid, seen) {
  const out = {}
  for (const [tid, { comm, cpuS }] of seen) {
    const kind = tid === pid ? 'main' : comm
    out[kind] = round((out[kind] ?? 0) + cpuS, 2)
  }
  return out
}

/**
 * Runs one command and measures: wall time (spawn to exit), time to the first byte on stdout,
 * CPU seconds of the whole process tree (user + system, from this process's reaped-children
 * counters), the process's own peak RSS (VmHWM, polled every 10 ms; the kernel keeps the high
 * water mark so polling misses at most the last 10 ms) and the tree's peak RSS (sum over the
 * process and its descendants, sampled every 50 ms).
 */
function measure(cmd, args, { server, threads: perThread = false, ...opts } = {}) {
  const serverPid = server?.pid
  return new Promise((resolve, reject) => {
    const busyBefore = machineBusy()
    const oursBefore = processCpu() + processCpu(serverPid)
    const serverBefore = processCpu(serverPid)
    const cpuBefore = reapedCpu()
    const started = process.hrtime.bigint()
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let firstOutputMs
    let hwm = 0
    let tree = 0
    let ticks = 0
    // With `threads`: the last CPU seconds seen of every thread of the process, by thread id.
    const threads = new Map()
    child.stdout.on('data', d => {
      firstOutputMs ??= ms()
      stdout += d
    })
    child.stderr.on('data', d => (stderr += d))
    const poll = setInterval(() => {
      hwm = Math.max(hwm, statusKiB(child.pid, 'VmHWM'))
      if (ticks++ % 5 === 0) tree = Math.max(tree, treeRssKiB(child.pid))
      if (perThread) threadCpu(child.pid, threads)
    }, 10)
    child.on('error', err => {
      clearInterval(poll)
      reject(err)
    })
    child.on('exit', () => {
      clearInterval(poll)
    })
    child.on('close', code => {
      const wallMs = ms()
      const cpuS = reapedCpu() - cpuBefore
      const ours = processCpu() + processCpu(serverPid) - oursBefore
      resolve({
        code,
        wallMs,
        firstOutputMs,
        cpuS,
        serverCpuS: processCpu(serverPid) - serverBefore,
        // Busy time of the machine that neither the run, the server nor this driver used: other
        // work on the machine during the run, which makes the run slower than it should be.
        foreignCpuS: machineBusy() - busyBefore - cpuS - ours,
        hwmMiB: hwm / 1024,
        treeMiB: Math.max(tree, hwm) / 1024,
        ...(perThread ? { threads: threadSummary(child.pid, threads) } : {}),
        stdout,
        stderr
      })
    })
  })
}

/**
 * Waits until the machine is quiet (other processes use less than QUIET of its cores over a
 * quarter second), for at most BENCH_QUIET_WAIT_S seconds per run (default 30). Other work on a
 * shared machine makes runs slower in ways no median fully hides; each run records what it saw.
 */
const QUIET = 0.15
const QUIET_WAIT_MS = Number(process.env.BENCH_QUIET_WAIT_S ?? 30) * 1000
let waitedMs = 0
async function quiet() {
  const started = Date.now()
  for (;;) {
    const ours = () =>
      processCpu() + Object.values(servers).reduce((n, s) => n + processCpu(s.pid), 0)
    const before = machineBusy() - ours()
    await new Promise(resolve => setTimeout(resolve, 250))
    const load = (machineBusy() - ours() - before) / (0.25 * NPROC)
    if (!(load > QUIET) || Date.now() - started > QUIET_WAIT_MS) break
  }
  waitedMs += Date.now() - started
}

function failed(what, r) {
  return new Error(
    `${what} failed (exit ${r.code}):\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`
  )
}

/** Drops the run's files and flushes dirty pages, so no run pays for the previous one's writes. */
async function cleanup(...dirs) {
  for (const dir of dirs) if (dir) await rm(dir, { recursive: true, force: true })
  spawnSync('sync')
}

// --- checking what a run built ----------------------------------------------------------------

async function checkBundle(dir, what, spec = BENCH_RELEASE) {
  const { files, links } = expectedBundle(spec)
  const want = [...files, ...Object.keys(links)].sort()
  const have = (await readdir(dir)).sort()
  if (JSON.stringify(have) !== JSON.stringify(want)) {
    throw new Error(`${what}: bundle ${dir} holds ${have.join(', ')}; expected ${want.join(', ')}`)
  }
  for (const name of files) {
    const s = await lstat(path.join(dir, name))
    if (!s.isFile() || s.size === 0) throw new Error(`${what}: ${name} is not a regular file`)
  }
  for (const [name, target] of Object.entries(links)) {
    if ((await readlink(path.join(dir, name))) !== target)
      throw new Error(`${what}: ${name} does not link to ${target}`)
  }
}

function outputs(text) {
  const out = {}
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3]
  return out
}

// --- the rows ---------------------------------------------------------------------------------

let scratch
let warmToolCache
/** The generated releases, by name: `plain` (BENCH_RELEASE) and, when a row needs it, `large`. */
const releases = {}
/** The bench servers: `plain` (no cap) and `capped` (CAP_BYTES_PER_S per connection). */
const servers = {}

/** download-url for `spec` on `server`: the servers serve .cache/bench, one directory per release. */
function releaseUrl(server, spec) {
  return `${server.url}/${spec === BENCH_LARGE_RELEASE ? 'release-large' : 'release'}`
}

/** The oras "release" (the real oras built by script/setup, packed as the official asset), served from .cache/bench/oras. */
let oras
let orasVersion
/** The OCI layout the republish row finds everything published in. */
let publishedLayout

/** Inputs of a row that pushes `format` into `layout`, by default a fresh OCI layout in `temp`. */
function pushInputs(format, temp, server, layout = path.join(temp, 'oci')) {
  return {
    INPUT_PUSH: 'true',
    INPUT_FORMAT: format,
    INPUT_IMAGE: `oci-layout:${layout}`,
    'INPUT_ORAS-URL': `${server.url}/oras/v${orasVersion}/${oras.assetName}`,
    'INPUT_ORAS-CHECKSUM': oras.sha256
  }
}

/**
 * Garbage collections from --trace-gc lines, by kind: how many, and their pause on the thread
 * that ran them (ms). Counts every isolate (the main thread's and the workers').
 */
function gcSummary(stdout) {
  const out = {}
  for (const m of stdout.matchAll(
    / ms: ([A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)?) .*?MB, (?:pooled: \S+ MB, )?([\d.]+) \/ ([\d.]+) ms/g
  )) {
    const kind = (out[m[1]] ??= { count: 0, pauseMs: 0, reasons: {} })
    kind.count++
    kind.pauseMs = round(kind.pauseMs + Number(m[2]), 1)
    // Why V8 started it: "allocation failure", "external memory pressure", ...
    const reason = /mu = [\d.]+\) ([^;\n]*);/.exec(
      stdout.slice(m.index + m[0].length, m.index + m[0].length + 200)
    )
    if (reason) kind.reasons[reason[1]] = (kind.reasons[reason[1]] ?? 0) + 1
  }
  return out
}

/** Runs that prepare the measured ones: never profiled. */
const NOT_PROFILED = new Set(['prepare', 'prepare push', 'publish'])
/** Profiled runs so far, by row: each run's profiles go to bench/results/profiles/<row>-<n>/. */
const profiled = {}

/**
 * One run of dist/index.js as the runner runs it. `toolCache`: a shared one (warm rows) instead of
 * a fresh one; `server`: which server (and so which per-connection cap); `spec`: which release;
 * `format`: push the bundle in that format into a fresh OCI layout (default: push: false).
 */
async function runAction(
  what,
  { toolCache, server = servers.plain, spec = BENCH_RELEASE, format, layout, skipped = false } = {}
) {
  const temp = await mkdtemp(path.join(scratch, 'temp-'))
  const gh = await mkdtemp(path.join(scratch, 'gh-'))
  const tc = toolCache ?? (await mkdtemp(path.join(scratch, 'tc-')))
  await writeFile(path.join(gh, 'output'), '')
  await writeFile(path.join(gh, 'summary'), '')
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: tc,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_OUTPUT: path.join(gh, 'output'),
    GITHUB_STEP_SUMMARY: path.join(gh, 'summary'),
    GITHUB_REPOSITORY: 'bench/hook-images',
    GITHUB_ACTOR: 'bench',
    GITHUB_WORKSPACE: gh,
    GITHUB_API_URL: 'http://127.0.0.1:9',
    'INPUT_HOOK-VERSION': spec.tag,
    INPUT_VARIANT: spec.variant,
    INPUT_PUSH: 'false',
    'INPUT_DOWNLOAD-URL': releaseUrl(server, spec),
    ...(format ? pushInputs(format, temp, server, layout) : {})
  }
  const args = [DIST]
  let profileDir
  if (PROFILE && !NOT_PROFILED.has(what)) {
    profileDir = path.join(PROFILES, `${what}-${(profiled[what] = (profiled[what] ?? 0) + 1)}`)
    await rm(profileDir, { recursive: true, force: true })
    args.unshift('--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--trace-gc')
  }
  const r = await measure(process.execPath, args, { env, cwd: gh, server, threads: PROFILE })
  if (profileDir) {
    // What the profiles cannot show: CPU seconds per thread (bench/profile.mjs scales the
    // samples by them) and the garbage collections V8 reported (--trace-gc).
    await mkdir(profileDir, { recursive: true })
    const run = { cpuS: r.cpuS, wallMs: r.wallMs, threads: r.threads, gc: gcSummary(r.stdout) }
    await writeFile(path.join(profileDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`)
  }
  try {
    if (r.code !== 0) throw failed(`${what} run of dist/index.js`, r)
    if (skipped) {
      // Everything already published: nothing built, nothing pushed, the published digest out.
      const o = outputs(await readFile(path.join(gh, 'output'), 'utf8'))
      if (o.skipped !== 'true' || o.pushed !== 'false' || !o.digest)
        throw failed(`${what} run (skipped ${o.skipped}, pushed ${o.pushed})`, r)
      return r
    }
    const bundleDir = outputs(await readFile(path.join(gh, 'output'), 'utf8'))['bundle-dir']
    if (!bundleDir) throw failed(`${what} run (no bundle-dir output)`, r)
    await checkBundle(bundleDir, what, spec)
    if (format) {
      const o = outputs(await readFile(path.join(gh, 'output'), 'utf8'))
      if (o.pushed !== 'true' || !o.digest || (format === 'image') !== Boolean(o.platforms))
        throw failed(`${what} run (pushed ${o.pushed}, digest ${o.digest})`, r)
    }
    // The archives' hits; oras's own hit line ("oras <version>: tool cache hit") is not counted.
    const hits = (r.stdout.match(/^(?!oras ).*tool cache hit/gm) ?? []).length
    const wantHits = toolCache && what !== 'prepare' ? spec.ids.length : 0
    if (hits !== wantHits) throw failed(`${what} run: ${hits} tool cache hits, not ${wantHits}`, r)
  } finally {
    await cleanup(temp, gh, toolCache ? undefined : tc)
  }
  return r
}

async function runBaseline({ server = servers.plain, spec = BENCH_RELEASE } = {}) {
  const dest = await mkdtemp(path.join(scratch, 'baseline-'))
  const assets = spec.ids.map(id => `hook_${id}.tar.gz`)
  const r = await measure(
    'bash',
    [
      path.join(ROOT, 'bench', 'baseline.sh'),
      `${releaseUrl(server, spec)}/${spec.tag}`,
      dest,
      spec.arm,
      spec.x86,
      ...assets
    ],
    { server }
  )
  try {
    if (r.code !== 0) throw failed('baseline', r)
    await checkBundle(dest, 'baseline', spec)
  } finally {
    await cleanup(dest)
  }
  return r
}

async function runFloor() {
  const archives = BENCH_RELEASE.ids.map(id =>
    path.join(releases.plain.dir, BENCH_RELEASE.tag, `hook_${id}.tar.gz`)
  )
  const r = await measure('bash', [
    path.join(ROOT, 'bench', 'floor.sh'),
    String(NPROC),
    ...archives
  ])
  if (r.code !== 0) throw failed('floor', r)
  spawnSync('sync')
  return r
}

/** Node alone receiving and inflating the release: the memory any Node implementation starts from. */
async function runNodeFloor() {
  const assets = BENCH_RELEASE.ids.map(id => `hook_${id}.tar.gz`)
  const r = await measure(
    process.execPath,
    [
      path.join(ROOT, 'bench', 'node-floor.mjs'),
      `${releaseUrl(servers.plain, BENCH_RELEASE)}/${BENCH_RELEASE.tag}`,
      ...assets
    ],
    { server: servers.plain }
  )
  if (r.code !== 0) throw failed('node-floor', r)
  return r
}

/**
 * The primitives of a cold run, alone in one process (bench/primitives.mjs): SHA-512, inflate,
 * sha256 and writing, each timed in CPU seconds. Their sum is what a cold run cannot go below
 * on this machine with Node's own primitives; the row's own CPU s adds reading the archives.
 */
async function runPrimitives() {
  const archives = BENCH_RELEASE.ids.map(id =>
    path.join(releases.plain.dir, BENCH_RELEASE.tag, `hook_${id}.tar.gz`)
  )
  const dir = await mkdtemp(path.join(scratch, 'primitives-'))
  const r = await measure(process.execPath, [
    path.join(ROOT, 'bench', 'primitives.mjs'),
    dir,
    ...archives
  ])
  try {
    if (r.code !== 0) throw failed('primitives', r)
    r.primitives = JSON.parse(r.stdout.trim().split('\n').pop())
  } finally {
    await cleanup(dir)
  }
  return r
}

/**
 * The cold run's work written as plainly as possible on the action's own libraries
 * (bench/plain-stack.mjs): @actions/http-client, node:zlib's streaming gunzip, tar-stream,
 * node:crypto, positional writes; one thread, no checks, no cache. With `receive`, only the
 * bodies are received: through the library, then straight from a socket into one reused buffer;
 * the CPU seconds of each go to the row's `receive`.
 */
async function runPlain({ receive = false } = {}) {
  const what = receive ? 'receive' : 'plain-stack'
  const assets = BENCH_RELEASE.ids.map(id => `hook_${id}.tar.gz`)
  const dir = await mkdtemp(path.join(scratch, `${what}-`))
  const r = await measure(
    process.execPath,
    [
      path.join(ROOT, 'bench', 'plain-stack.mjs'),
      ...(receive ? ['--receive'] : []),
      dir,
      `${releaseUrl(servers.plain, BENCH_RELEASE)}/${BENCH_RELEASE.tag}`,
      ...assets
    ],
    { server: servers.plain }
  )
  try {
    if (r.code !== 0) throw failed(what, r)
    if (receive) r.receive = JSON.parse(r.stdout.trim().split('\n').pop()).receiveCpuS
  } finally {
    await cleanup(dir)
  }
  return r
}

/**
 * The rows, in table order. `action`: the row runs dist/index.js (its peak RSS and start-up are
 * the action's own, and count for the targets). `release`: which generated release it needs.
 */
const ROWS = {
  cold: { action: true, run: () => runAction('cold') },
  warm: { action: true, run: () => runAction('warm', { toolCache: warmToolCache }) },
  baseline: { run: () => runBaseline() },
  floor: { run: () => runFloor() },
  'node-floor': { run: () => runNodeFloor() },
  primitives: { run: () => runPrimitives() },
  'plain-stack': { run: () => runPlain() },
  receive: { run: () => runPlain({ receive: true }) },
  'cold-capped': { action: true, run: () => runAction('cold-capped', { server: servers.capped }) },
  'baseline-capped': { run: () => runBaseline({ server: servers.capped }) },
  'cold-large': {
    action: true,
    release: 'large',
    run: () => runAction('cold-large', { spec: BENCH_LARGE_RELEASE })
  },
  // Push rows: the same bundle pushed into a fresh OCI layout by the real oras, installed
  // through the tool cache from a served release archive; artifact and image side by side.
  'cold-artifact': {
    action: true,
    push: true,
    run: () => runAction('cold-artifact', { format: 'artifact' })
  },
  'cold-image': {
    action: true,
    push: true,
    run: () => runAction('cold-image', { format: 'image' })
  },
  'warm-artifact': {
    action: true,
    push: true,
    run: () => runAction('warm-artifact', { toolCache: warmToolCache, format: 'artifact' })
  },
  // A fresh runner finds the bundle already published: it reads checksum.txt and the tags, stops.
  republish: {
    action: true,
    push: true,
    run: () =>
      runAction('republish', { format: 'artifact', layout: publishedLayout, skipped: true })
  },
  'warm-image': {
    action: true,
    push: true,
    run: () => runAction('warm-image', { toolCache: warmToolCache, format: 'image' })
  }
}
const ALL_ROWS = Object.keys(ROWS)
const SELECTED = (process.env.BENCH_ROWS ?? ALL_ROWS.join(','))
  .split(',')
  .map(s => s.trim())
  .filter(s => ALL_ROWS.includes(s))

// --- reporting --------------------------------------------------------------------------------

function median(values) {
  const v = values.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return Number.NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null)

/** Median of each key over objects of numbers (per-primitive CPU, per-thread CPU). */
function medians(objects) {
  const keys = [...new Set(objects.flatMap(o => Object.keys(o)))]
  return Object.fromEntries(keys.map(k => [k, round(median(objects.map(o => o[k] ?? 0)), 3)]))
}

function summarize(samples) {
  const wall = samples.map(s => s.wallMs / 1000)
  const prims = samples.map(s => s.primitives).filter(Boolean)
  const received = samples.map(s => s.receive).filter(Boolean)
  const threads = samples.map(s => s.threads).filter(Boolean)
  return {
    ...(prims.length
      ? {
          // bench/primitives.mjs: CPU seconds of each primitive, and their sum (medians).
          primitives: {
            cpuS: medians(prims.map(p => p.cpuS)),
            sumS: round(median(prims.map(p => p.sumS)), 3),
            mibPerCpuS: medians(prims.map(p => p.mibPerCpuS)),
            inflateChunk: prims[0].inflateChunk
          }
        }
      : {}),
    // bench/plain-stack.mjs --receive: CPU seconds of receiving through the library and from
    // a socket into one reused buffer (medians).
    ...(received.length ? { receiveCpuS: medians(received) } : {}),
    ...(threads.length ? { threadCpuS: medians(threads) } : {}),
    runs: samples.length,
    medianS: round(median(wall)),
    minS: round(Math.min(...wall)),
    maxS: round(Math.max(...wall)),
    cpuS: round(median(samples.map(s => s.cpuS)), 2),
    serverCpuS: round(median(samples.map(s => s.serverCpuS)), 2),
    // An estimate from clock-tick counters, good to about ±0.1 s: below zero means none.
    foreignCpuS: Math.max(0, round(median(samples.map(s => s.foreignCpuS)), 2)),
    peakRssMiB: round(Math.max(...samples.map(s => s.hwmMiB)), 1),
    peakTreeRssMiB: round(Math.max(...samples.map(s => s.treeMiB)), 1),
    startupMs: round(median(samples.map(s => s.firstOutputMs ?? Number.NaN)), 0),
    wallS: wall.map(x => round(x))
  }
}

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown'
  let osName = `${os.type()} ${os.release()}`
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))
    if (m) osName = `${m[1]} (${os.type()} ${os.release()})`
  } catch {
    // not Linux
  }
  return {
    nproc: NPROC,
    cpu,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    os: osName,
    node: process.version,
    gzip: sh('gzip', ['--version']).split('\n')[0] || 'absent',
    pigz: sh('pigz', ['--version']) || 'pigz absent',
    curl: sh('curl', ['--version']).split('\n')[0]?.split(' ').slice(0, 2).join(' ') || 'absent',
    tar: sh('tar', ['--version']).split('\n')[0] || 'absent'
  }
}

const fmt = (x, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits))

function table(result) {
  const lines = [
    '| row | median s | min s | max s | CPU s | server CPU s | other CPU s | peak RSS MiB (process / tree) | first output ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  for (const name of ALL_ROWS) {
    const r = result.rows[name]
    if (!r) continue
    const action = ROWS[name].action === true
    const rss = action
      ? `${fmt(r.peakRssMiB, 1)} / ${fmt(r.peakTreeRssMiB, 1)}`
      : `- / ${fmt(r.peakTreeRssMiB, 1)}`
    const startup = action ? fmt(r.startupMs, 0) : '-'
    lines.push(
      `| ${name} | ${fmt(r.medianS)} | ${fmt(r.minS)} | ${fmt(r.maxS)} | ${fmt(r.cpuS)} | ${fmt(r.serverCpuS)} | ${fmt(r.foreignCpuS)} | ${rss} | ${startup} |`
    )
  }
  return lines.join('\n')
}

function verdicts(result) {
  const r = result.rows
  const t = []
  const check = (name, value, limit, unit) => {
    if (value === null || value === undefined || Number.isNaN(value)) return
    t.push({ target: name, value, limit, unit, met: value <= limit })
  }
  const q = result.ratios
  check('cold / baseline', q.coldOverBaseline, TARGETS.coldOverBaseline, '×')
  check(
    'cold CPU s / primitives CPU s (SHA-512, inflate, sha256, write)',
    q.coldCpuOverPrimitives,
    TARGETS.coldCpuOverPrimitives,
    '×'
  )
  check('cold / floor', q.coldOverFloor, TARGETS.coldOverFloor, '×')
  check(
    `cold-capped / wire time (${fmt(result.wireS)} s: the bytes over ${CONNECTIONS} connections at ${CAP_BYTES_PER_S / MiB} MiB/s)`,
    q.cappedOverWire,
    TARGETS.cappedOverWire,
    '×'
  )
  check('warm / baseline', q.warmOverBaseline, TARGETS.warmOverBaseline, '×')
  check('republish / cold', q.republishOverCold, TARGETS.republishOverCold, '×')
  check(
    'cold-image / cold-artifact',
    q.coldImageOverColdArtifact,
    TARGETS.coldImageOverColdArtifact,
    '×'
  )
  check('warm-image / baseline', q.warmImageOverBaseline, TARGETS.warmImageOverBaseline, '×')
  const actionRows = ALL_ROWS.filter(name => ROWS[name].action && r[name])
  const floorRss = r['node-floor']?.peakTreeRssMiB
  if (actionRows.length && floorRss) {
    const rss = Math.max(...actionRows.map(name => r[name].peakRssMiB ?? 0))
    check(
      `peak RSS of the action (${actionRows.join(', ')}: ${fmt(rss, 1)} MiB) / node-floor's (${fmt(floorRss, 1)} MiB)`,
      round(rss / floorRss),
      TARGETS.peakRssOverNodeFloor,
      '×'
    )
  }
  if (r.cold && r['cold-large'])
    check(
      'peak RSS growth with 4 × larger initramfs (cold-large − cold)',
      round(r['cold-large'].peakRssMiB - r.cold.peakRssMiB, 1),
      TARGETS.largeRssGrowthMiB,
      'MiB'
    )
  check('start-up (spawn to first output)', result.startupMs, TARGETS.startupMs, 'ms')
  return t
}

function markdown(result) {
  const m = result.machine
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${result.date}. See [README.md](README.md) for what each row measures.`,
    '',
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; ${m.gzip}; ${m.pigz}; ${m.curl}; ${m.tar}.`,
    '',
    `Release: ${result.release.archives} archives, ${fmt(result.release.compressedMiB, 1)} MiB compressed (${result.release.variant}, ${result.release.files}). Median of ${result.runs} runs per row; ${fmt(result.waitedForQuietS, 1)} s spent waiting for other work on the machine to stop.`,
    '',
    table(result),
    '',
    ...(result.rows.primitives ? [primitivesLine(result), ''] : []),
    ...(stackLine(result) ? [stackLine(result), ''] : []),
    `Ratios: ${ratioLine(result)}. Action start-up (spawn to first line on stdout, median over every run of the action): ${fmt(result.startupMs, 0)} ms; bare \`node -e\` start-up: ${fmt(result.nodeStartupMs, 0)} ms. The capped rows' server sends at most ${CAP_BYTES_PER_S / MiB} MiB/s per connection: the release's ${fmt(result.release.compressedMiB, 1)} MiB need ${fmt(result.wireS)} s over ${CONNECTIONS} connections. The large release (cold-large) is ${fmt(result.largeRelease?.compressedMiB, 1)} MiB: every initramfs 4 × larger.`,
    '',
    '| target | measured | limit | met |',
    '| --- | ---: | ---: | --- |',
    ...result.targets.map(
      t =>
        `| ${t.target} | ${fmt(t.value, t.unit === '×' ? 2 : 0)} ${t.unit} | ${t.limit} ${t.unit} | ${t.met ? 'yes' : 'no'} |`
    ),
    ''
  ]
  return lines.join('\n')
}

/** The primitives row's figures, and the cold run's CPU against their sum. */
function primitivesLine(result) {
  const p = result.rows.primitives.primitives
  const parts = Object.entries(p.cpuS).map(
    ([k, v]) => `${k} ${fmt(v)} s (${p.mibPerCpuS[k] ?? '-'} MiB per CPU-second)`
  )
  const cold = result.rows.cold
  const per = result.coldCpuOverPrimitivesPerRound ?? []
  return `Primitives (bench/primitives.mjs, CPU seconds, median; inflate in ${p.inflateChunk >> 10} KiB pieces): ${parts.join(', ')}; sum ${fmt(p.sumS)} s.${cold ? ` Cold CPU ${fmt(cold.cpuS)} s ÷ primitives ${fmt(p.sumS)} s = ${fmt(result.ratios.coldCpuOverPrimitives)} (per round: ${per.map(x => fmt(x)).join(', ')}).` : ''}`
}

/**
 * The plain-stack and receive rows: what the cold run's work costs on the action's libraries
 * when written as plainly as possible, and what receiving alone costs through them.
 */
function stackLine(result) {
  const plain = result.rows['plain-stack']
  const received = result.rows.receive?.receiveCpuS
  const prims = result.rows.primitives?.primitives
  const cold = result.rows.cold
  const parts = []
  if (plain) {
    parts.push(
      `Plain stack (bench/plain-stack.mjs: the cold run's work on the same libraries, one thread, no checks, no cache, V8's defaults): ${fmt(plain.cpuS)} CPU s, ${fmt(plain.medianS)} s wall, peak RSS ${fmt(plain.peakTreeRssMiB, 1)} MiB${prims ? ` (${fmt(result.ratios.plainStackCpuOverPrimitives)} × the primitives' sum)` : ''}${cold ? `; cold spends ${fmt(result.ratios.coldCpuOverPlainStackCpu)} × its CPU s` : ''}.`
    )
  }
  if (received) {
    parts.push(
      `Receiving the release alone (row receive): ${fmt(received.library)} CPU s through @actions/http-client (node:http) with V8's defaults, ${fmt(received.libraryTuned)} CPU s with the action's garbage-collection settings (src/util/gc.ts), ${fmt(received.socket)} CPU s from a socket into one reused buffer.`
    )
  }
  return parts.join(' ')
}

function ratioLine(result) {
  return Object.entries(result.ratios)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(
      ([k, v]) =>
        `${k
          .replace(/Over/, ' / ')
          .replace(/([a-z])([A-Z])/g, '$1-$2')
          .toLowerCase()} ${fmt(v)}`
    )
    .join(', ')
}

function prettier(files) {
  const bin = path.join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs')
  spawnSync(process.execPath, [bin, '--log-level', 'warn', '--write', ...files], {
    cwd: ROOT,
    stdio: 'inherit'
  })
}

// --- main -------------------------------------------------------------------------------------

async function startServer(root, bytesPerSecond) {
  const args = [path.join(ROOT, 'bench', 'server.mjs'), root]
  if (bytesPerSecond) args.push(String(bytesPerSecond))
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const url = await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', d => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).url)
    })
    child.on('error', reject)
    child.on('exit', code => reject(new Error(`bench server exited ${code}`)))
  })
  return { url, pid: child.pid, stop: () => child.stdin.end() }
}

async function main() {
  const benchStarted = Date.now()
  try {
    readFileSync(DIST)
  } catch {
    throw new Error(`${DIST} is missing: run npm run package first (npm run bench does)`)
  }
  if (!SELECTED.length) throw new Error(`BENCH_ROWS names none of ${ALL_ROWS.join(', ')}`)
  const m = machine()
  log(`machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}`)

  const wanted = { plain: BENCH_RELEASE }
  if (SELECTED.some(row => ROWS[row].release === 'large')) wanted.large = BENCH_LARGE_RELEASE
  for (const [name, spec] of Object.entries(wanted)) {
    const dir = path.join(CACHE, name === 'large' ? 'release-large' : 'release')
    log(`release ${name}: ${path.relative(ROOT, dir)}`)
    const release = await ensureRelease(dir, spec, line => log(line))
    log(
      release.generatedMs > 0
        ? `  generated in ${(release.generatedMs / 1000).toFixed(1)} s`
        : '  reusing the generated release (delete .cache/bench to regenerate)'
    )
    release.compressed = Object.values(release.assets).reduce((n, a) => n + a.size, 0)
    releases[name] = release
  }
  // Read every asset once, so the first measured row does not pay for cold disk reads.
  for (const release of Object.values(releases))
    for (const name of Object.keys(release.assets))
      await readFile(path.join(release.dir, release.spec.tag, name)).then(() => undefined)

  scratch = path.join(CACHE, 'scratch')
  await rm(scratch, { recursive: true, force: true })
  await mkdir(scratch, { recursive: true })
  servers.plain = await startServer(CACHE)
  servers.capped = await startServer(CACHE, CAP_BYTES_PER_S)
  try {
    // One discarded run of each kind warms the server, the binaries and the page cache; the
    // action's also fills the tool cache that every warm run reuses.
    log(`warming up (servers ${servers.plain.url}, capped ${servers.capped.url})`)
    warmToolCache = await mkdtemp(path.join(scratch, 'warm-tc-'))
    await runAction('prepare', { toolCache: warmToolCache })
    if (SELECTED.some(row => ROWS[row].push)) {
      const { buildOrasRelease, ORAS_VERSION } =
        await import('../__tests__/support/oras-release.ts')
      orasVersion = ORAS_VERSION
      oras = await buildOrasRelease(path.join(CACHE, 'oras', `v${orasVersion}`))
      // Fills the warm tool cache with oras too.
      await runAction('prepare push', { toolCache: warmToolCache, format: 'image' })
    }
    if (SELECTED.includes('republish')) {
      publishedLayout = path.join(scratch, 'published')
      await runAction('publish', { format: 'artifact', layout: publishedLayout })
    }
    if (SELECTED.includes('baseline')) await runBaseline()

    const nodeStartup = []
    for (let i = 0; i < RUNS; i++) {
      const r = await measure(process.execPath, ['-e', 'console.log(1)'])
      nodeStartup.push(r.firstOutputMs)
    }

    const samples = Object.fromEntries(SELECTED.map(r => [r, []]))
    // Cold CPU seconds ÷ the primitives' sum, round by round (issue 20: ≤ 1.3).
    const coldCpuOverPrimitives = []
    for (let i = 0; i < RUNS; i++) {
      // The order rotates every round, so no row always runs right after the same other one.
      const order = SELECTED.map((_, j) => SELECTED[(i + j) % SELECTED.length])
      const parts = []
      for (const row of order) {
        await quiet()
        const r = await ROWS[row].run()
        samples[row].push(r)
        parts.push(`${row} ${(r.wallMs / 1000).toFixed(2)} s`)
      }
      const cold = samples.cold?.[i]
      const prims = samples.primitives?.[i]?.primitives
      if (cold && prims) {
        coldCpuOverPrimitives.push(round(cold.cpuS / prims.sumS))
        parts.push(
          `cold CPU ${cold.cpuS.toFixed(2)} s ÷ primitives ${prims.sumS.toFixed(2)} s = ${(cold.cpuS / prims.sumS).toFixed(2)}`
        )
      }
      if (PROFILE && cold?.threads)
        parts.push(`cold CPU s by thread ${JSON.stringify(cold.threads)}`)
      log(`round ${i + 1}/${RUNS}: ${parts.join(', ')}`)
    }

    const rows = Object.fromEntries(SELECTED.map(r => [r, summarize(samples[r])]))
    const ratio = (a, b) => (rows[a] && rows[b] ? round(rows[a].medianS / rows[b].medianS) : null)
    const actionRuns = SELECTED.filter(row => ROWS[row].action).flatMap(row => samples[row])
    const compressed = releases.plain.compressed
    // What the bytes need at the cap over the action's connections: the CPU fully hidden.
    const wireS = compressed / (CONNECTIONS * CAP_BYTES_PER_S)
    const describe = (spec, release) => ({
      tag: spec.tag,
      variant: spec.variant,
      archives: spec.ids.length,
      files: `each an ${spec.kernelBytes / MiB} MiB kernel and a ${spec.initramfsBytes / MiB} MiB initramfs of incompressible bytes, dtbs for the four boards`,
      compressedMiB: round(release.compressed / MiB, 1)
    })
    const result = {
      date: new Date().toISOString(),
      machine: m,
      release: describe(BENCH_RELEASE, releases.plain),
      largeRelease: releases.large ? describe(BENCH_LARGE_RELEASE, releases.large) : null,
      runs: RUNS,
      rows,
      wireS: round(wireS),
      ratios: {
        coldOverBaseline: ratio('cold', 'baseline'),
        coldOverFloor: ratio('cold', 'floor'),
        coldCpuOverPrimitives:
          rows.cold && rows.primitives
            ? round(rows.cold.cpuS / rows.primitives.primitives.sumS)
            : null,
        coldCpuOverPlainStackCpu:
          rows.cold && rows['plain-stack']
            ? round(rows.cold.cpuS / rows['plain-stack'].cpuS)
            : null,
        plainStackCpuOverPrimitives:
          rows['plain-stack'] && rows.primitives
            ? round(rows['plain-stack'].cpuS / rows.primitives.primitives.sumS)
            : null,
        warmOverBaseline: ratio('warm', 'baseline'),
        republishOverCold: ratio('republish', 'cold'),
        cappedOverWire: rows['cold-capped'] ? round(rows['cold-capped'].medianS / wireS) : null,
        cappedOverBaselineCapped: ratio('cold-capped', 'baseline-capped'),
        coldImageOverColdArtifact: ratio('cold-image', 'cold-artifact'),
        warmImageOverBaseline: ratio('warm-image', 'baseline')
      },
      startupMs: actionRuns.length
        ? round(median(actionRuns.map(s => s.firstOutputMs ?? Number.NaN)), 0)
        : null,
      nodeStartupMs: round(median(nodeStartup), 0),
      // Cold CPU seconds ÷ the primitives' sum, per round (the same round's runs).
      coldCpuOverPrimitivesPerRound: coldCpuOverPrimitives,
      // Seconds spent waiting for other work on the machine to stop before runs.
      waitedForQuietS: round(waitedMs / 1000, 1)
    }
    result.targets = verdicts(result)

    log('')
    log(`machine: ${m.nproc} × ${m.cpu}`)
    log(table(result))
    log('')
    if (result.rows.primitives) log(primitivesLine(result))
    if (stackLine(result)) log(stackLine(result))
    log(ratioLine(result))
    log(
      `action start-up ${fmt(result.startupMs, 0)} ms (bare node: ${fmt(result.nodeStartupMs, 0)} ms)`
    )
    for (const t of result.targets)
      log(
        `  ${t.met ? 'met    ' : 'MISSED '} ${t.target}: ${fmt(t.value, t.unit === '×' ? 2 : 0)} ${t.unit} (limit ${t.limit} ${t.unit})`
      )

    const results = path.join(ROOT, 'bench', 'results')
    await mkdir(results, { recursive: true })
    await writeFile(path.join(results, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
    const written = ['bench/results/latest.json']
    if (COMMIT && SELECTED.length === ALL_ROWS.length) {
      await writeFile(path.join(ROOT, 'bench', 'RESULTS.json'), JSON.stringify(result, null, 2))
      await writeFile(path.join(ROOT, 'bench', 'RESULTS.md'), markdown(result))
      prettier(['bench/RESULTS.json', 'bench/RESULTS.md'])
      written.push('bench/RESULTS.json', 'bench/RESULTS.md')
    }
    log(`wrote ${written.join(', ')} in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`)
  } finally {
    for (const server of Object.values(servers)) server.stop()
    await rm(scratch, { recursive: true, force: true })
  }
}

main().catch(err => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
