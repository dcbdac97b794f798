// The benchmark's release server: GET/HEAD of the files under one directory, on 127.0.0.1 only,
// streamed from disk with a Content-Length (as GitHub's release CDN answers). It runs as its own
// process so that its CPU is neither charged to nor competing inside the benchmark driver's event
// loop (which times the runs and polls /proc); action and baseline pay the same server.
// Usage: node bench/server.mjs <root>; prints {"url": "http://127.0.0.1:<port>"} on stdout.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'

const root = path.resolve(process.argv[2] ?? '.')

const server = createServer(async (req, res) => {
  let file
  try {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    file = path.resolve(root, `.${pathname}`)
  } catch {
    file = undefined
  }
  const st =
    file && file.startsWith(root + path.sep) ? await stat(file).catch(() => undefined) : undefined
  if (!st?.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '10' })
    res.end('not found\n')
    return
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(st.size),
    'last-modified': st.mtime.toUTCString()
  })
  if (req.method === 'HEAD' || st.size === 0) {
    res.end()
    return
  }
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), res).catch(() =>
    res.destroy()
  )
})

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
