// The memory floor of streaming a release in Node: a bare Node process (no toolkit, no tar, no
// hashing, no files written) receives every archive over HTTP, 4 at a time as the action does,
// and inflates it through node:zlib, keeping nothing. Its peak RSS is what Node's own streams
// cost at this rate before any of the action's work: their buffers are freed only by a garbage
// collection, which V8 starts once tens of MiB of them have piled up.
// Usage: node bench/node-floor.mjs <release url> <asset>...
import { get } from 'node:http'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'

const [base, ...assets] = process.argv.slice(2)

async function inflate(asset) {
  const res = await new Promise((resolve, reject) =>
    get(`${base}/${asset}`, resolve).on('error', reject)
  )
  if (res.statusCode !== 200) throw new Error(`${asset}: HTTP ${res.statusCode}`)
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
  await pipeline(res, createGunzip(), sink)
}

const queue = [...assets]
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (queue.length > 0) await inflate(queue.shift())
  })
)
