import type { Server, Socket, AddressInfo } from 'node:net'

/**
 * Starts `server` on a free port of 127.0.0.1. `stop` destroys the connections still open
 * (a client's keep-alive, a request a test left hanging) before closing, so it never waits.
 */
export async function listenOnLoopback(
  server: Server
): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
