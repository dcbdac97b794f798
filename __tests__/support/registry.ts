// A real OCI distribution registry (Debian's `docker-registry`, distribution 2.8) on loopback for
// integration tests, read-back helpers that use only its HTTP API, and a fault-injecting reverse
// proxy to put in front of it.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { listenOnLoopback } from './loopback.js'

const execFileAsync = promisify(execFile)

export const REGISTRY_BINARY = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry'

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
].join(', ')

export interface RegistryAuth {
  username: string
  password: string
}

export interface FetchedManifest {
  digest: string
  mediaType: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
  raw: Buffer
}

export interface Registry {
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string
  /** `http://127.0.0.1:PORT` */
  url: string
  auth?: RegistryAuth
  /** The registry's storage root (a fresh temp dir). */
  rootDir: string
  /** The registry process id. */
  pid: number
  stop(): Promise<void>
  getManifest(repo: string, ref: string): Promise<FetchedManifest>
  /** Tags of a repository, [] when the repository does not exist. */
  listTags(repo: string): Promise<string[]>
  headBlob(repo: string, digest: string): Promise<boolean>
  getBlob(repo: string, digest: string): Promise<Buffer>
  catalog(): Promise<string[]>
}

export interface StartRegistryOptions {
  auth?: RegistryAuth
}

// Children that must not outlive the jest worker, even when a test forgets stop().
const liveChildren = new Set<ChildProcess>()
let exitHookInstalled = false
function trackChild(child: ChildProcess): void {
  liveChildren.add(child)
  child.once('exit', () => liveChildren.delete(child))
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL')
        } catch {
          // already gone
        }
      }
    })
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

async function waitUntilUp(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    try {
      const res = await rawRequest(`${url}/v2/`)
      if (res.status === 200 || res.status === 401) return true
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  return false
}

function registryConfig(root: string, port: number, htpasswdPath?: string): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${root}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`
  ]
  if (htpasswdPath) {
    lines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${htpasswdPath}`)
  }
  return lines.join('\n') + '\n'
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'registry-'))
  const root = path.join(dir, 'storage')
  let htpasswdPath: string | undefined
  if (opts.auth) {
    const { stdout } = await execFileAsync('htpasswd', [
      '-Bbn',
      opts.auth.username,
      opts.auth.password
    ])
    htpasswdPath = path.join(dir, 'htpasswd')
    await writeFile(htpasswdPath, stdout.trim() + '\n')
  }

  let lastLog = ''
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const configPath = path.join(dir, 'config.yml')
    await writeFile(configPath, registryConfig(root, port, htpasswdPath))
    const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
      stdio: ['ignore', 'ignore', 'pipe']
    })
    trackChild(child)
    let log = ''
    child.stderr?.on('data', (c: Buffer) => {
      log = (log + c.toString()).slice(-4000)
    })
    const url = `http://127.0.0.1:${port}`
    if (await waitUntilUp(url, child, 15000)) {
      return makeRegistry(child, dir, root, port, opts.auth)
    }
    lastLog = log
    child.kill('SIGKILL')
  }
  await rm(dir, { recursive: true, force: true })
  throw new Error(`docker-registry did not start: ${lastLog}`)
}

function makeRegistry(
  child: ChildProcess,
  dir: string,
  root: string,
  port: number,
  auth: RegistryAuth | undefined
): Registry {
  const host = `127.0.0.1:${port}`
  const url = `http://${host}`
  const authHeader: Record<string, string> = auth
    ? {
        Authorization:
          'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
      }
    : {}
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    rawRequest(url + p, { method, headers: { ...authHeader, ...headers } })

  const fail = (what: string, res: RawResponse): Error =>
    new Error(`${what}: HTTP ${res.status}: ${res.body.toString().slice(0, 500)}`)

  let stopped = false
  return {
    host,
    url,
    auth,
    rootDir: root,
    pid: child.pid ?? -1,
    async stop() {
      if (!stopped) {
        stopped = true
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
          await exited
          clearTimeout(timer)
        }
        await rm(dir, { recursive: true, force: true })
      }
    },
    async getManifest(repo, ref) {
      const res = await get(`/v2/${repo}/manifests/${ref}`, { Accept: MANIFEST_ACCEPT })
      if (res.status !== 200) throw fail(`GET manifest ${repo}:${ref}`, res)
      return {
        digest: String(res.headers['docker-content-digest'] ?? ''),
        mediaType: String(res.headers['content-type'] ?? ''),
        body: JSON.parse(res.body.toString('utf8')),
        raw: res.body
      }
    },
    async listTags(repo) {
      const tags: string[] = []
      let next: string | undefined = `/v2/${repo}/tags/list`
      while (next) {
        const res = await get(next)
        if (res.status === 404) return []
        if (res.status !== 200) throw fail(`GET tags of ${repo}`, res)
        const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null }
        tags.push(...(body.tags ?? []))
        const link = res.headers.link
        const m = typeof link === 'string' ? /<([^>]+)>/.exec(link) : null
        next = m?.[1]
      }
      return tags
    },
    async headBlob(repo, digest) {
      const res = await get(`/v2/${repo}/blobs/${digest}`, {}, 'HEAD')
      if (res.status === 200) return true
      if (res.status === 404) return false
      throw fail(`HEAD blob ${repo}@${digest}`, res)
    },
    async getBlob(repo, digest) {
      let res = await get(`/v2/${repo}/blobs/${digest}`)
      // the filesystem driver serves blobs directly, but follow a redirect should one come
      if ((res.status === 307 || res.status === 302) && typeof res.headers.location === 'string') {
        res = await rawRequest(new URL(res.headers.location, url).toString())
      }
      if (res.status !== 200) throw fail(`GET blob ${repo}@${digest}`, res)
      return res.body
    },
    async catalog() {
      const res = await get('/v2/_catalog')
      if (res.status !== 200) throw fail('GET catalog', res)
      const body = JSON.parse(res.body.toString('utf8')) as { repositories?: string[] | null }
      return body.repositories ?? []
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fault proxy

export interface FaultRule {
  method?: string
  path: RegExp
  status?: number
  body?: string
  headers?: Record<string, string>
  /** How many matching requests this rule applies to; default Infinity. */
  times?: number
  /** How many matching requests pass untouched before the rule applies; default 0. */
  after?: number
  /**
   * 'respond' (default) answers with status/body/headers; 'reset' destroys the socket; 'hang'
   * never answers (the connection stays open until the proxy stops); 'cut' reads `cutAfter`
   * bytes of the request body (a blob half uploaded), then destroys the socket.
   */
  action?: 'respond' | 'reset' | 'hang' | 'cut'
  cutAfter?: number
  /** Only requests whose Content-Length is at least this (a large blob, not the empty config). */
  minLength?: number
}

export interface FaultProxy {
  url: string
  host: string
  /** How many requests the rule at ruleIndex has been applied to. */
  hits(ruleIndex: number): number
  /** Every request seen, as `METHOD /path?query`, in arrival order. */
  requests: string[]
  stop(): Promise<void>
}

export interface FaultProxyOptions {
  /**
   * Called as each request arrives, before any rule: a test's hook into "the moment the
   * client sends this" (e.g. rewriting a file the client is about to upload). While a returned
   * promise is pending, no request (this one or a later one) is answered or forwarded.
   */
  onRequest?: (method: string, path: string) => void | Promise<void>
}

/**
 * Passes one request on to the registry at `targetUrl` and its answer back, with the registry's
 * own Locations rewritten to `publicUrl` (the proxy's address), so uploads come back through it.
 * `onAnswer` sees each answer's status first.
 */
export function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  targetUrl: string,
  publicUrl: string,
  headers: http.IncomingHttpHeaders,
  onAnswer?: (status: number) => void
): void {
  const target = new URL(targetUrl)
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    upRes => {
      const out = { ...upRes.headers }
      if (typeof out.location === 'string') {
        const abs = new URL(out.location, targetUrl)
        if (abs.host === target.host) out.location = `${publicUrl}${abs.pathname}${abs.search}`
      }
      onAnswer?.(upRes.statusCode ?? 502)
      res.writeHead(upRes.statusCode ?? 502, out)
      upRes.pipe(res)
    }
  )
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  })
  req.pipe(upstream)
}

export async function startFaultProxy(
  targetUrl: string,
  rules: FaultRule[],
  options: FaultProxyOptions = {}
): Promise<FaultProxy> {
  const hitCounts = rules.map(() => 0)
  const passed = rules.map(() => 0)
  const requests: string[] = []
  let gate: Promise<void> = Promise.resolve()

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET'
    const reqPath = req.url ?? '/'
    requests.push(`${method} ${reqPath}`)
    if (options.onRequest === undefined) {
      handle(req, res, method, reqPath)
      return
    }
    const hook = options.onRequest(method, reqPath)
    // A failing hook fails its test through the test's own assertions; the request goes on.
    gate = Promise.all([gate, hook]).then(
      () => undefined,
      () => undefined
    )
    void gate.then(() => handle(req, res, method, reqPath))
  })

  function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    reqPath: string
  ): void {
    const index = rules.findIndex(
      (rule, i) =>
        (rule.method === undefined || rule.method.toUpperCase() === method) &&
        rule.path.test(reqPath) &&
        Number(req.headers['content-length'] ?? 0) >= (rule.minLength ?? 0) &&
        hitCounts[i]! < (rule.times ?? Infinity)
    )
    // A rule's first `after` matches go through untouched, as if it did not match.
    if (index >= 0 && passed[index]! < (rules[index]!.after ?? 0)) {
      passed[index]! += 1
      forward(req, res, targetUrl, `http://${req.headers.host ?? ''}`, req.headers)
      return
    }
    if (index >= 0) {
      const rule = rules[index]!
      hitCounts[index]! += 1
      if (rule.action === 'reset') {
        req.socket.destroy()
        return
      }
      if (rule.action === 'cut') {
        let seen = 0
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length
          if (seen >= (rule.cutAfter ?? 1)) req.socket.destroy()
        })
        return
      }
      if (rule.action === 'hang') {
        req.resume()
        return
      }
      // drain the request body first so the client sees the answer, not a broken pipe
      req.resume()
      req.on('end', () => {
        const body = rule.body ?? ''
        res.writeHead(rule.status ?? 500, {
          'Content-Length': String(Buffer.byteLength(body)),
          ...(rule.headers ?? {})
        })
        res.end(method === 'HEAD' ? undefined : body)
      })
      return
    }
    forward(req, res, targetUrl, `http://${req.headers.host ?? ''}`, req.headers)
  }
  const { port, stop } = await listenOnLoopback(server)
  const host = `127.0.0.1:${port}`
  return {
    url: `http://${host}`,
    host,
    requests,
    hits: (i: number) => hitCounts[i] ?? 0,
    stop
  }
}
