import { createServer } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export interface ConnectProxy {
  /** http://127.0.0.1:PORT, for http_proxy / https_proxy. */
  url: string
  /** CONNECT targets as asked (`host:port`), in order. */
  tunnels: string[]
  /** Anything asked other than CONNECT (`METHOD target`): refused with 405. */
  refused: string[]
  stop(): Promise<void>
}

/**
 * A forward proxy on loopback that speaks CONNECT only, as the clients behind
 * `@actions/http-client` use it (tunnel for its own requests, undici's ProxyAgent for fetch):
 * every tunnel goes to 127.0.0.1 at the asked port, so a test names hosts that resolve nowhere
 * (a proxy is never bypassed for them, as it is for loopback addresses).
 */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = []
  const refused: string[] = []
  const sockets = new Set<Socket>()
  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  }
  const server = createServer((req, res) => {
    refused.push(`${req.method} ${req.url}`)
    res.writeHead(405, { connection: 'close' }).end()
  })
  server.on('connection', track)
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? ''
    tunnels.push(target)
    const port = Number(/:(\d+)$/.exec(target)?.[1])
    if (!Number.isInteger(port)) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n')
      return
    }
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    track(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    refused,
    stop: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
