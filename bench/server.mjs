// The benchmark's release server: GET/HEAD of the files under one directory, on 127.0.0.1 only,
// streamed from disk with a Content-Length (as GitHub's release CDN answers). It runs as its own
// process so that its CPU is neither charged to nor competing inside the benchmark driver's event
// loop (which times the runs and polls /proc); action and baseline pay the same server.
// With a second argument it sends at most that many bytes per second on each connection, as a
// release host roughly does (each response paced against its own start, so a run's parallel
// downloads each get the full rate).
// Usage: node bench/server.mjs <root> [bytes per second]; prints {"url": "http://127.0.0.1:<port>"}.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'

const root = path.resolve(process.argv[2] ?? '.')
const bytesPerSecond = Number(process.argv[3] ?? 0)

/** Paces a stream of chunks to bytesPerSecond, measured from the first byte. */
async function* capped(source) {
  const started = performance.now()
  let sent = 0
  for await (const chunk of source) {
    const due = started + (sent / bytesPerSecond) * 1000
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    sent += chunk.length
    yield chunk
  }
}

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
  // Smaller pieces when capped, so the pacing is smooth rather than 256 KiB bursts.
  const source = createReadStream(file, { highWaterMark: (bytesPerSecond > 0 ? 64 : 256) * 1024 })
  await pipeline(bytesPerSecond > 0 ? [source, capped, res] : [source, res]).catch(() =>
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
