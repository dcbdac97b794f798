// A GHCR-like front for the real registry: the distribution token protocol as GHCR speaks it.
// Every /v2/ request needs a Bearer token; a 401 carries the challenge (realm, service, scope).
// The token endpoint issues scoped tokens from Basic credentials, and anonymous tokens that may
// only pull. A repository no manifest was pushed to (a package that does not exist yet)
// answers reads either with a 404 (what the registry behind says) or with 403 DENIED, both seen
// from GHCR in the wild, for tokens that may not push there. Everything else is proxied to the
// registry unchanged.
import { randomBytes } from 'node:crypto'
import * as http from 'node:http'
import { listenOnLoopback } from './loopback.js'
import { forward } from './registry.js'

export interface GhcrFrontOptions {
  /** Usernames and the passwords that get push tokens. */
  users: Record<string, string>
  /** How a read of a repository with no tags is answered to a token that may not push there. */
  missingRepository: 'not-found' | 'denied'
}

export interface GhcrFront {
  url: string
  host: string
  /** The token requests, as `<user or anonymous> <scope…>`. */
  tokenRequests: string[]
  /** Every /v2/ request seen, as `METHOD /path status`. */
  requests: string[]
  stop(): Promise<void>
}

const SERVICE = 'ghcr-test'
const DENIED = JSON.stringify({
  errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }]
})
const UNAUTHORIZED = JSON.stringify({
  errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }]
})

interface Grant {
  user: string | undefined
  /** repository → actions */
  access: Map<string, Set<string>>
}

export async function startGhcrFront(
  registryUrl: string,
  opts: GhcrFrontOptions
): Promise<GhcrFront> {
  const target = new URL(registryUrl)
  const tokens = new Map<string, Grant>()
  const tokenRequests: string[] = []
  const requests: string[] = []
  let url = ''

  const send = (
    res: http.ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {}
  ): void => {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers
    })
    res.end(body)
  }

  const challenge = (res: http.ServerResponse, scope?: string): void => {
    const s = scope ? `,scope="${scope}"` : ''
    send(res, 401, UNAUTHORIZED, {
      'WWW-Authenticate': `Bearer realm="${url}/token",service="${SERVICE}"${s}`
    })
  }

  const issueToken = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const query = new URL(req.url ?? '/', url).searchParams
    let user: string | undefined
    const auth = req.headers.authorization
    if (auth !== undefined) {
      const m = /^Basic (.+)$/i.exec(auth)
      const [name, ...rest] = Buffer.from(m?.[1] ?? '', 'base64')
        .toString()
        .split(':')
      if (!m || name === undefined || opts.users[name] !== rest.join(':')) {
        tokenRequests.push(`rejected ${query.getAll('scope').join(' ')}`)
        send(res, 401, UNAUTHORIZED)
        return
      }
      user = name
    }
    const access = new Map<string, Set<string>>()
    for (const scope of query.getAll('scope')) {
      const m = /^repository:([^:]+):(.+)$/.exec(scope)
      if (!m) continue
      const wanted = m[2]!.split(',')
      // Anonymous tokens may pull, never push.
      access.set(m[1]!, new Set(user ? wanted : wanted.filter(a => a === 'pull')))
    }
    tokenRequests.push(`${user ?? 'anonymous'} ${query.getAll('scope').join(' ')}`)
    const token = randomBytes(16).toString('hex')
    tokens.set(token, { user, access })
    send(res, 200, JSON.stringify({ token, access_token: token, expires_in: 300 }))
  }

  // A package exists once a manifest was pushed to it, tagged or not.
  const created = new Set<string>()
  const exists = async (repository: string): Promise<boolean> => {
    if (created.has(repository)) return true
    const answer = await fetch(new URL(`/v2/${repository}/tags/list`, registryUrl))
    await answer.arrayBuffer()
    return answer.ok
  }

  const proxy = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    repository?: string
  ): void => {
    const headers = { ...req.headers, host: target.host }
    delete headers.authorization
    forward(req, res, registryUrl, url, headers, status => {
      const manifestPut = req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')
      if (repository !== undefined && manifestPut && status === 201) created.add(repository)
    })
  }

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET'
    const reqUrl = req.url ?? '/'
    const log = (status: number | string): void => {
      requests.push(`${method} ${reqUrl.replace(/\?.*/, '')} ${status}`)
    }
    if (reqUrl.startsWith('/token')) {
      issueToken(req, res)
      return
    }
    if (!reqUrl.startsWith('/v2/')) {
      send(res, 404, '{}')
      return
    }
    const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    const grant = bearer === undefined ? undefined : tokens.get(bearer)
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(reqUrl)
    if (!m) {
      // The ping: any valid token will do.
      if (!grant) {
        log(401)
        challenge(res)
        return
      }
      log('proxied')
      proxy(req, res)
      return
    }
    const repository = m[1]!
    const write = method !== 'GET' && method !== 'HEAD'
    const need = write ? 'push' : 'pull'
    const allowed = grant?.access.get(repository)
    if (!grant || !allowed?.has(need)) {
      req.resume()
      log(401)
      challenge(res, `repository:${repository}:${write ? 'pull,push' : 'pull'}`)
      return
    }
    void (async () => {
      if (!write && opts.missingRepository === 'denied' && !allowed.has('push')) {
        if (!(await exists(repository))) {
          req.resume()
          log(403)
          send(res, 403, DENIED)
          return
        }
      }
      log('proxied')
      proxy(req, res, repository)
    })()
  })
  const { port, stop } = await listenOnLoopback(server)
  const host = `127.0.0.1:${port}`
  url = `http://${host}`
  return {
    url,
    host,
    tokenRequests,
    requests,
    stop
  }
}
