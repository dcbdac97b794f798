import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, chown, copyFile, cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse } from 'yaml'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
export const DIST = path.join(ROOT, 'dist', 'index.js')

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Texts of the `::error::` annotations. */
  errors: string[]
  warnings: string[]
  /** Processes seen (by /proc/<pid>/cmdline) with a watched secret in their arguments. */
  secretInArgv: string[]
  env: NodeJS.ProcessEnv
  ms: number
}

export interface RunOptions {
  inputs: Record<string, string>
  /** Extra environment (wins over the runner variables). */
  env?: Record<string, string>
  /** Shared between runs to test caching; default a fresh one. */
  toolCache?: string
  temp?: string
  /** Fill every input that is absent from `inputs` with its action.yml default, as the runner does. */
  runnerDefaults?: boolean
  /** Node binary; default the one running the tests (Node 24 through npm scripts). */
  node?: string
  /** The built action to run; default this checkout's dist/index.js. */
  dist?: string
  /** While the action runs, watch every process's argv for these strings. */
  watchArgv?: string[]
  cwd?: string
  /** Called with the action's process once it runs (e.g. to signal it as the runner would). */
  onStart?: (child: ChildProcess) => void
  /**
   * Run as this user (the tests run as root, whom permissions do not stop): the scratch files
   * and the run's own RUNNER_TEMP are handed to it; a given toolCache is left as it is.
   */
  user?: { uid: number; gid: number }
}

let actionDefaults: Record<string, string> | undefined

/** The action.yml defaults, with `${{ github.* }}` expressions evaluated as a runner would. */
export async function defaults(context: {
  actor: string
  token: string
}): Promise<Record<string, string>> {
  if (!actionDefaults) {
    const doc = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    actionDefaults = Object.fromEntries(
      Object.entries(doc.inputs).map(([name, spec]) => [name, spec.default ?? ''])
    )
  }
  return Object.fromEntries(
    Object.entries(actionDefaults).map(([name, value]) => [
      name,
      value
        .replace('${{ github.actor }}', context.actor)
        .replace('${{ github.token }}', context.token)
    ])
  )
}

/** `INPUT_<NAME>`: upper-cased, spaces to underscores, dashes kept, as the runner does. */
/** The run, once it is known to have succeeded; otherwise a failure showing what the action said. */
export function ok(run: ActionRun): ActionRun {
  if (run.exitCode !== 0)
    throw new Error(`action failed (${run.exitCode}):\n${run.stdout}\n${run.stderr}`)
  return run
}

export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Runs the built action in a child process exactly as the runner does. */
export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hook-action-'))
  const outputFile = path.join(scratch, 'output')
  const summaryFile = path.join(scratch, 'summary')
  const pathFile = path.join(scratch, 'path')
  await writeFile(pathFile, '')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  let inputs = opts.inputs
  if (opts.runnerDefaults) {
    inputs = { ...(await defaults({ actor: 'octocat', token: '' })), ...inputs }
  }
  // A clean environment: nothing of a surrounding GitHub job may leak into the action under test.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    RUNNER_TEMP: opts.temp ?? (await mkdtemp(path.join(os.tmpdir(), 'hook-temp-'))),
    RUNNER_TOOL_CACHE: opts.toolCache ?? (await mkdtemp(path.join(os.tmpdir(), 'hook-toolcache-'))),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_PATH: pathFile,
    GITHUB_REPOSITORY: 'Octo-Org/Hook-Images',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: scratch,
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    // tool-cache's own knobs for its retry backoff, so retried downloads take no 10-20 s; it
    // reads them from globalThis, hence the preload.
    NODE_OPTIONS: `--import=${pathToFileURL(path.join(import.meta.dirname, 'fast-retries.mjs')).href}`,
    TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS: '0',
    TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS: '0',
    ...opts.env
  }
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value
  let node = opts.node ?? process.execPath
  let dist = opts.dist ?? DIST
  if (opts.user) {
    const { uid, gid } = opts.user
    for (const p of [scratch, outputFile, summaryFile, pathFile]) await chown(p, uid, gid)
    if (opts.temp === undefined) await chown(env['RUNNER_TEMP']!, uid, gid)
    // The checkout may sit below a directory only root can enter (a mktemp -d clone): the other
    // user gets its own copies of Node, the bundle and the preload, in a directory it can read.
    const staged = await mkdtemp(path.join(os.tmpdir(), 'hook-runas-'))
    await chmod(staged, 0o755)
    await copyFile(node, path.join(staged, 'node'))
    await cp(path.dirname(dist), path.join(staged, 'dist'), { recursive: true })
    await copyFile(
      path.join(import.meta.dirname, 'fast-retries.mjs'),
      path.join(staged, 'fast-retries.mjs')
    )
    node = path.join(staged, 'node')
    dist = path.join(staged, 'dist', path.basename(dist))
    env['NODE_OPTIONS'] = `--import=${pathToFileURL(path.join(staged, 'fast-retries.mjs')).href}`
  }

  const started = Date.now()
  const child = spawn(node, [dist], {
    env,
    cwd: opts.cwd ?? scratch,
    ...(opts.user ?? {})
  })
  opts.onStart?.(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const secretInArgv = new Set<string>()
  let watching = opts.watchArgv !== undefined && opts.watchArgv.length > 0
  const watcher = watching
    ? (async () => {
        while (watching) {
          for (const hit of await scanArgv(opts.watchArgv!)) secretInArgv.add(hit)
          await new Promise(r => setTimeout(r, 5))
        }
      })()
    : Promise.resolve()
  // A child that cannot even start (EACCES, ENOENT) fails the test at once, not at its timeout.
  let exitCode: number
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', code => resolve(code ?? -1))
    })
  } finally {
    watching = false
    await watcher
  }
  const ms = Date.now() - started

  const text = await readFile(outputFile, 'utf8')
  const outputs: Record<string, string> = {}
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!
  const annotation = (kind: string): string[] =>
    stdout
      .split('\n')
      .filter(l => l.startsWith(`::${kind}`))
      .map(l => l.replace(/^::[a-z]+[^:]*::/, ''))
  return {
    exitCode,
    stdout,
    stderr,
    outputs,
    summary: await readFile(summaryFile, 'utf8'),
    errors: annotation('error'),
    warnings: annotation('warning'),
    secretInArgv: [...secretInArgv],
    env,
    ms
  }
}

async function scanArgv(secrets: string[]): Promise<string[]> {
  const hits: string[] = []
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (secrets.some(s => cmdline.includes(s))) hits.push(cmdline.replace(/\0/g, ' '))
  }
  return hits
}

/** Every file under `dir`, recursively, as paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter(e => !e.isDirectory())
    .map(e => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}
