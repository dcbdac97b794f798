// Loopback HTTP server for tests: serves release assets from directories, fakes the GitHub
// releases API, and injects faults (error statuses, dropped/truncated/corrupted/slow/hanging
// bodies). Listens on 127.0.0.1 only. Test support: node builtins only.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import {
  createServer,
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { resolve as resolvePath, sep } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'

export type FaultKind =
  | 'status'
  | 'drop-mid-body'
  | 'truncate'
  | 'corrupt'
  | 'slow'
  | 'hang'
  | 'stall-mid-body'
  | 'redirect'
  | 'redirect-stall'
  | 'redirect-endless'

export interface FaultRule {
  /** Tested against the pathname and against the full request target (path + query). */
  path: RegExp
  /** How many matching requests it applies to; default Infinity. */
  times?: number
  kind: FaultKind
  /** 'status': the status to answer (default 500); other kinds: the status line (default: the normal one). */
  status?: number
  /** Extra response headers (merged over the normal ones for body faults). */
  headers?: Record<string, string>
  /** 'status': the body (default `<code> <reason>\n`; JSON content type if it looks like JSON). */
  body?: string
  /** 'slow': default 1024. */
  bytesPerSecond?: number
  /**
   * The redirect kinds: the Location sent (status default 302), as given (absolute or
   * relative) or made from the request target (pathname + query).
   * 'redirect': an empty body. 'redirect-stall': a Content-Length of 1 MiB and no body byte ever.
   * 'redirect-endless': a chunked body that never ends, written as fast as it is read.
   */
  location?: string | ((target: string) => string)
}

export interface RecordedRequest {
  method: string
  /** Request target as sent: pathname + query string. */
  path: string
  /** Status sent (0 while no header has been sent, e.g. a dropped connection before headers). */
  status: number
  authorization?: string
  /** Kind of fault applied, if any. */
  fault?: FaultKind
  /** Body bytes the server wrote (counted for 'redirect-endless' and 'stall-mid-body'). */
  bodyBytes?: number
  headers: IncomingHttpHeaders
}

export interface ApiRelease {
  tag_name: string
  draft?: boolean
  /** Default true: every hook release is published as a prerelease. */
  prerelease?: boolean
  /** Default tag_name. */
  name?: string
  created_at?: string
  published_at?: string | null
  body?: string
  /** Asset names (default none: `assets: []`). */
  assets?: Array<{ name: string; size?: number }>
}

export interface TestServer {
  /** http://127.0.0.1:PORT */
  url: string
  /** Serve files under `dir` at `<urlPrefix>/<relative path>` (GET/HEAD, streamed). */
  serveDir(urlPrefix: string, dir: string): void
  /** Exact pathname match (query ignored), any method; takes precedence over files and API. */
  route(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void
  /** Returns a function removing the rule. Rules are tried in insertion order; first match wins. */
  fault(rule: FaultRule): () => void
  requests(filter?: RegExp): RecordedRequest[]
  resetRequests(): void
  releasesApi(repo: string, releases: ApiRelease[], opts?: { perPage?: number }): void
  /** Responses whose connection is still open (slow / hanging / in flight). */
  openResponses(): number
  stop(): Promise<void>
}

interface Payload {
  status: number
  headers: Record<string, string>
  size: number
  /** A stream of bytes [start, end) of the body. */
  open(start?: number, end?: number): Readable
}

const API_PATH = /^(.*?)\/repos\/([^/]+)\/([^/]+)\/releases(?:\/(latest|tags\/(.+)))?\/?$/

function bufferPayload(status: number, headers: Record<string, string>, body: Buffer): Payload {
  return {
    status,
    headers,
    size: body.length,
    open: (start = 0, end = body.length) => Readable.from([body.subarray(start, end)])
  }
}

function textPayload(status: number, text: string): Payload {
  return bufferPayload(
    status,
    { 'content-type': 'text/plain; charset=utf-8' },
    Buffer.from(text, 'utf8')
  )
}

function jsonPayload(status: number, value: unknown, headers: Record<string, string> = {}) {
  return bufferPayload(
    status,
    { 'content-type': 'application/json; charset=utf-8', ...headers },
    Buffer.from(JSON.stringify(value), 'utf8')
  )
}

function matches(re: RegExp, pathname: string, full: string): boolean {
  re.lastIndex = 0
  if (re.test(pathname)) return true
  re.lastIndex = 0
  return re.test(full)
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(parts)
}

/** Byte offsets a 'corrupt' fault flips (xor 0xff): a third, a half and two thirds in. */
export function corruptOffsets(size: number): number[] {
  if (size === 0) return []
  return [...new Set([Math.floor(size / 3), Math.floor(size / 2), Math.floor((size * 2) / 3)])]
}

export async function startServer(opts?: { root?: string }): Promise<TestServer> {
  const mounts: Array<{ prefix: string; dir: string }> = []
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>()
  const faults: Array<FaultRule & { left: number }> = []
  const log: RecordedRequest[] = []
  const apis = new Map<string, { repo: string; releases: ApiRelease[]; perPage?: number }>()
  const sockets = new Set<Socket>()
  const open = new Set<ServerResponse>()
  const stopping = new AbortController()
  let stopped: Promise<void> | undefined

  const serveDir = (urlPrefix: string, dir: string) => {
    const prefix = ('/' + urlPrefix.replace(/^\/+|\/+$/g, '')).replace(/^\/$/, '')
    mounts.push({ prefix, dir: resolvePath(dir) })
    mounts.sort((a, b) => b.prefix.length - a.prefix.length)
  }
  if (opts?.root) serveDir('/', opts.root)

  const takeFault = (pathname: string, full: string, kinds?: FaultKind[]) => {
    const i = faults.findIndex(
      f => (!kinds || kinds.includes(f.kind)) && matches(f.path, pathname, full)
    )
    const rule = faults[i]
    if (!rule) return undefined
    rule.left -= 1
    if (rule.left <= 0) faults.splice(i, 1)
    return rule
  }

  async function filePayload(pathname: string): Promise<Payload | undefined> {
    for (const { prefix, dir } of mounts) {
      if (pathname !== prefix && !pathname.startsWith(prefix + '/')) continue
      let rel: string
      try {
        rel = decodeURIComponent(pathname.slice(prefix.length))
      } catch {
        return undefined
      }
      if (rel.includes('\0')) return undefined
      const file = resolvePath(dir, '.' + (rel.startsWith('/') ? rel : '/' + rel))
      if (!file.startsWith(dir + sep)) continue
      const st = await stat(file).catch(() => undefined)
      if (!st?.isFile()) continue
      return {
        status: 200,
        headers: {
          'content-type': 'application/octet-stream',
          'last-modified': st.mtime.toUTCString()
        },
        size: st.size,
        open: (start = 0, end = st.size) =>
          end > start ? createReadStream(file, { start, end: end - 1 }) : Readable.from([])
      }
    }
    return undefined
  }

  function releaseJson(base: string, repo: string, r: ApiRelease, index: number) {
    const id = 100000 + index
    const created = r.created_at ?? new Date(Date.UTC(2025, 0, 1) - index * 86400000).toISOString()
    const draft = r.draft ?? false
    const apiBase = `${base}/repos/${repo}/releases`
    const origin = base.replace(/\/api\/v3$/, '')
    return {
      url: `${apiBase}/${id}`,
      assets_url: `${apiBase}/${id}/assets`,
      upload_url: `${apiBase}/${id}/assets{?name,label}`,
      html_url: `${origin}/${repo}/releases/tag/${r.tag_name}`,
      id,
      node_id: `RE_fixture${id}`,
      tag_name: r.tag_name,
      target_commitish: 'main',
      name: r.name ?? r.tag_name,
      draft,
      prerelease: r.prerelease ?? true,
      immutable: false,
      author: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      created_at: created,
      published_at: r.published_at !== undefined ? r.published_at : draft ? null : created,
      tarball_url: `${base}/repos/${repo}/tarball/${r.tag_name}`,
      zipball_url: `${base}/repos/${repo}/zipball/${r.tag_name}`,
      body: r.body ?? '',
      assets: (r.assets ?? []).map((a, j) => ({
        url: `${apiBase}/assets/${id * 100 + j}`,
        id: id * 100 + j,
        name: a.name,
        label: '',
        content_type: 'application/octet-stream',
        state: 'uploaded',
        size: a.size ?? 0,
        download_count: 0,
        created_at: created,
        updated_at: created,
        browser_download_url: `${origin}/${repo}/releases/download/${r.tag_name}/${a.name}`
      }))
    }
  }

  function apiPayload(req: IncomingMessage, url: URL, m: RegExpExecArray): Payload {
    const [, prefix = '', owner = '', name = '', sub, tag] = m
    const api = apis.get(`${owner}/${name}`.toLowerCase())
    const rate = {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-used': '1',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-media-type': 'github.v3; format=json'
    }
    const notFound = () =>
      jsonPayload(
        404,
        {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest/releases/releases',
          status: '404'
        },
        rate
      )
    if (!api) return notFound()
    const base = `http://${req.headers.host ?? '127.0.0.1'}${prefix}`
    const all = api.releases.map((r, i) => releaseJson(base, api.repo, r, i))
    if (sub === 'latest') {
      const latest = all.find(r => !r.draft && !r.prerelease)
      return latest ? jsonPayload(200, latest, rate) : notFound()
    }
    if (tag !== undefined) {
      const wanted = decodeURIComponent(tag)
      const found = all.find(r => r.tag_name === wanted && !r.draft)
      return found ? jsonPayload(200, found, rate) : notFound()
    }
    const asked = Number.parseInt(url.searchParams.get('per_page') ?? '', 10)
    let perPage = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 100) : 30
    if (api.perPage) perPage = Math.min(perPage, api.perPage)
    const askedPage = Number.parseInt(url.searchParams.get('page') ?? '', 10)
    const page = Number.isFinite(askedPage) && askedPage > 0 ? askedPage : 1
    const last = Math.max(1, Math.ceil(all.length / perPage))
    const items = all.slice((page - 1) * perPage, page * perPage)
    const link = (p: number) => {
      const q = new URLSearchParams(url.searchParams)
      q.set('page', String(p))
      return `<${base}/repos/${owner}/${name}/releases?${q.toString()}>`
    }
    const rels: string[] = []
    if (page > 1) rels.push(`${link(Math.min(page - 1, last))}; rel="prev"`)
    if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`)
    if (page > 1) rels.push(`${link(1)}; rel="first"`)
    return jsonPayload(200, items, rels.length ? { ...rate, link: rels.join(', ') } : rate)
  }

  function send(req: IncomingMessage, res: ServerResponse, p: Payload): void {
    res.writeHead(p.status, { ...p.headers, 'content-length': String(p.size) })
    if (req.method === 'HEAD' || p.size === 0) {
      res.end()
      return
    }
    pipeline(p.open(), res).catch(() => res.destroy())
  }

  async function applyFault(
    req: IncomingMessage,
    res: ServerResponse,
    rule: FaultRule,
    p: Payload,
    entry: RecordedRequest
  ): Promise<void> {
    const status = rule.status ?? p.status
    const headers = { ...p.headers, ...rule.headers }
    const head = req.method === 'HEAD'
    switch (rule.kind) {
      case 'hang':
        res.writeHead(status, { ...headers, 'content-length': String(p.size) })
        res.flushHeaders()
        return
      case 'stall-mid-body': {
        // Half the body, then nothing more on an open connection, until the client gives up.
        res.writeHead(status, { ...headers, 'content-length': String(p.size) })
        const half = head ? Buffer.alloc(0) : await readAll(p.open(0, Math.floor(p.size / 2)))
        entry.bodyBytes = half.length
        if (half.length > 0) res.write(half)
        else res.flushHeaders()
        return
      }
      case 'redirect':
      case 'redirect-stall':
      case 'redirect-endless': {
        const target = req.url ?? '/'
        const location =
          typeof rule.location === 'function' ? rule.location(target) : (rule.location ?? target)
        const redirectStatus = rule.status ?? 302
        if (rule.kind === 'redirect') {
          res.writeHead(redirectStatus, { ...rule.headers, location, 'content-length': '0' })
          res.end()
          return
        }
        if (rule.kind === 'redirect-stall') {
          res.writeHead(redirectStatus, { ...rule.headers, location, 'content-length': '1048576' })
          res.flushHeaders()
          return
        }
        // Endless: chunked, a 64 KiB piece whenever the socket takes one, until it closes.
        res.writeHead(redirectStatus, { ...rule.headers, location })
        const piece = Buffer.alloc(64 << 10, 0x61)
        entry.bodyBytes = 0
        const gone = new AbortController()
        res.once('close', () => gone.abort())
        const signal = AbortSignal.any([gone.signal, stopping.signal])
        while (!signal.aborted) {
          entry.bodyBytes += piece.length
          await writePiece(res, piece, signal)
        }
        res.destroy()
        return
      }
      case 'drop-mid-body': {
        res.writeHead(status, { ...headers, 'content-length': String(p.size) })
        const half = head ? Buffer.alloc(0) : await readAll(p.open(0, Math.floor(p.size / 2)))
        if (half.length > 0) res.write(half, () => res.socket?.destroy())
        else {
          res.flushHeaders()
          res.socket?.write('', () => res.socket?.destroy())
        }
        return
      }
      case 'truncate': {
        const rest = { ...headers }
        delete rest['content-length']
        res.writeHead(status, rest)
        if (head) {
          res.end()
          return
        }
        // No Content-Length: chunked (or close-delimited for HTTP/1.0), so the short body ends cleanly.
        await pipeline(p.open(0, Math.floor(p.size / 2)), res).catch(() => res.destroy())
        return
      }
      case 'corrupt': {
        res.writeHead(status, { ...headers, 'content-length': String(p.size) })
        if (head) {
          res.end()
          return
        }
        const flip = new Set(corruptOffsets(p.size))
        let offset = 0
        const flipper = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            const out = Buffer.from(chunk)
            for (const at of flip) {
              if (at >= offset && at < offset + out.length) {
                out[at - offset] = (out[at - offset] ?? 0) ^ 0xff
              }
            }
            offset += out.length
            cb(null, out)
          }
        })
        await pipeline(p.open(), flipper, res).catch(() => res.destroy())
        return
      }
      case 'slow': {
        res.writeHead(status, { ...headers, 'content-length': String(p.size) })
        res.flushHeaders()
        if (head) {
          res.end()
          return
        }
        const bps = Math.max(1, rule.bytesPerSecond ?? 1024)
        const step = Math.max(1, Math.ceil(bps / 10))
        const gone = new AbortController()
        res.once('close', () => gone.abort())
        const signal = AbortSignal.any([gone.signal, stopping.signal])
        const source = p.open()
        let sent = 0
        try {
          for await (const chunk of source) {
            const buf = Buffer.from(chunk as Buffer)
            for (let at = 0; at < buf.length; at += step) {
              // pace before every piece but the first, so the end follows the last byte at once
              if (sent > 0) await sleep((step / bps) * 1000, undefined, { signal })
              if (signal.aborted) throw signal.reason
              const piece = buf.subarray(at, at + step)
              sent += piece.length
              await writePiece(res, piece, signal)
            }
          }
          res.end()
        } catch {
          source.destroy()
          res.destroy()
        }
        return
      }
      default:
        throw new Error(`unexpected fault kind ${rule.kind}`)
    }
  }

  function sendStatus(res: ServerResponse, rule: FaultRule): void {
    const status = rule.status ?? 500
    const body = rule.body ?? `${status} ${STATUS_CODES[status] ?? 'Fault'}\n`
    const headers: Record<string, string> = { ...rule.headers }
    if (!Object.keys(headers).some(h => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = /^\s*[[{]/.test(body)
        ? 'application/json; charset=utf-8'
        : 'text/plain; charset=utf-8'
    }
    const buf = Buffer.from(body, 'utf8')
    res.writeHead(status, { ...headers, 'content-length': String(buf.length) })
    res.end(buf)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const full = req.url ?? '/'
    let url: URL
    try {
      url = new URL(full, 'http://127.0.0.1')
    } catch {
      url = new URL('http://127.0.0.1/')
    }
    const pathname = url.pathname
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: full,
      status: 0,
      headers: req.headers
    }
    if (req.headers.authorization !== undefined) entry.authorization = req.headers.authorization
    log.push(entry)
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse
    res.writeHead = ((...args: unknown[]) => {
      entry.status = typeof args[0] === 'number' ? args[0] : res.statusCode
      return writeHead(...args)
    }) as ServerResponse['writeHead']
    open.add(res)
    res.once('close', () => open.delete(res))

    const handler = routes.get(pathname)
    const rule = takeFault(pathname, full, handler ? ['status', 'hang'] : undefined)
    if (rule) entry.fault = rule.kind
    if (rule?.kind === 'status') return sendStatus(res, rule)
    if (handler && !rule) return handler(req, res)

    const method = req.method ?? 'GET'
    let payload: Payload
    const api = API_PATH.exec(pathname)
    if (handler) payload = textPayload(200, '')
    else if (method !== 'GET' && method !== 'HEAD') {
      payload = textPayload(405, 'Method Not Allowed\n')
    } else if (api) payload = apiPayload(req, url, api)
    else payload = (await filePayload(pathname)) ?? textPayload(404, 'Not Found\n')

    if (rule) return applyFault(req, res, rule, payload, entry)
    send(req, res, payload)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(err => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`test server error: ${String(err)}\n`)
      } else res.destroy()
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    if (stopping.signal.aborted) socket.destroy()
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    serveDir,
    route(path, handler) {
      routes.set(path, handler)
    },
    fault(rule) {
      const stored = { ...rule, left: rule.times ?? Infinity }
      if (!(stored.left > 0)) return () => undefined
      faults.push(stored)
      return () => {
        const i = faults.indexOf(stored)
        if (i >= 0) faults.splice(i, 1)
      }
    },
    requests(filter) {
      return log
        .filter(r => !filter || matches(filter, r.path.split('?')[0] ?? r.path, r.path))
        .map(r => ({ ...r }))
    },
    resetRequests() {
      log.length = 0
    },
    releasesApi(repo, releases, apiOpts) {
      const [owner, name, ...rest] = repo.split('/')
      if (!owner || !name || rest.length) throw new Error(`releasesApi: bad repo ${repo}`)
      const entry: { repo: string; releases: ApiRelease[]; perPage?: number } = {
        repo,
        releases: [...releases]
      }
      if (apiOpts?.perPage !== undefined) entry.perPage = apiOpts.perPage
      apis.set(repo.toLowerCase(), entry)
    },
    openResponses() {
      return open.size
    },
    stop() {
      stopped ??= new Promise<void>(resolve => {
        stopping.abort(new Error('test server stopped'))
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
      })
      return stopped
    }
  }
}

/**
 * A TCP listener on 127.0.0.1 that accepts every connection and never answers: to the client,
 * a host that takes the connection and then says nothing (a blackholed service).
 */
export async function startSilentServer(): Promise<{
  url: string
  connections(): number
  stop(): Promise<void>
}> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createNetServer(socket => {
    connections++
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    stop: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
  }
}

/** Writes `piece`, then waits for the socket to drain, or for `signal` to give up waiting. */
async function writePiece(res: ServerResponse, piece: Buffer, signal: AbortSignal): Promise<void> {
  if (res.write(piece)) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      res.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    res.on('drain', done)
    signal.addEventListener('abort', done)
  })
}
