'use strict'
// Tar for directory layers: oras-go's file store packs a directory as tar+gzip.

const fs = require('node:fs')
const fsp = require('node:fs/promises')
const path = require('node:path')
const os = require('node:os')
const nodeCrypto = require('node:crypto')
const zlib = require('node:zlib')
const { pipeline } = require('node:stream/promises')
const { PassThrough } = require('node:stream')
const { cleanupPaths } = require('./cleanup.cjs')
const { CLIError } = require('./errors.cjs')

function tarHeader(name, { mode, size, mtime, type, linkname = '' }) {
  const h = Buffer.alloc(512)
  const put = (s, off, len) => Buffer.from(s, 'utf8').copy(h, off, 0, len)
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0'
  put(name.slice(0, 100), 0, 100)
  put(oct(mode & 0o7777, 8), 100, 8)
  put(oct(0, 8), 108, 8)
  put(oct(0, 8), 116, 8)
  put(oct(size, 12), 124, 12)
  put(oct(Math.floor(mtime), 12), 136, 12)
  h.fill(' ', 148, 156)
  put(type, 156, 1)
  put(linkname.slice(0, 100), 157, 100)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of h) sum += b
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return h
}

function paxRecord(key, value) {
  const rest = ` ${key}=${value}\n`
  let len = Buffer.byteLength(rest) + 1
  while (String(len).length + Buffer.byteLength(rest) !== len)
    len = String(len).length + Buffer.byteLength(rest)
  return `${len}${rest}`
}

async function writeTarEntry(ws, name, st, type, linkname, filePath) {
  const write = buf => new Promise((res, rej) => ws.write(buf, err => (err ? rej(err) : res())))
  const size = type === '0' ? st.size : 0
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100) {
    let pax = paxRecord('path', name)
    if (linkname) pax += paxRecord('linkpath', linkname)
    const paxBuf = Buffer.from(pax)
    await write(
      tarHeader('PaxHeaders.0/' + path.posix.basename(name).slice(0, 80), {
        mode: 0o644,
        size: paxBuf.length,
        mtime: st.mtimeMs / 1000,
        type: 'x'
      })
    )
    await write(paxBuf)
    if (paxBuf.length % 512) await write(Buffer.alloc(512 - (paxBuf.length % 512)))
  }
  await write(tarHeader(name, { mode: st.mode, size, mtime: st.mtimeMs / 1000, type, linkname }))
  if (type === '0') {
    for await (const chunk of fs.createReadStream(filePath)) await write(chunk)
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)))
  }
}

async function tarDirectory(dir, prefix, ws) {
  const walk = async (abs, rel) => {
    const st = await fsp.lstat(abs)
    const name = rel
    if (st.isDirectory()) {
      await writeTarEntry(ws, name + '/', st, '5', '', abs)
      const entries = (await fsp.readdir(abs)).sort()
      for (const e of entries) await walk(path.join(abs, e), name + '/' + e)
    } else if (st.isSymbolicLink()) {
      await writeTarEntry(ws, name, st, '2', await fsp.readlink(abs), abs)
    } else if (st.isFile()) {
      await writeTarEntry(ws, name, st, '0', '', abs)
    }
  }
  await walk(dir, prefix)
  await new Promise((res, rej) => ws.write(Buffer.alloc(1024), err => (err ? rej(err) : res())))
}

async function packDirectory(dir, name) {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oras_file_'))
  cleanupPaths.push(tmpDir)
  const gzPath = path.join(tmpDir, 'content.tar.gz')
  const tarHash = nodeCrypto.createHash('sha256')
  const gzHash = nodeCrypto.createHash('sha256')
  let gzSize = 0
  const gz = zlib.createGzip()
  const fileOut = fs.createWriteStream(gzPath)
  gz.on('data', c => {
    gzHash.update(c)
    gzSize += c.length
  })
  const tarStream = new PassThrough()
  tarStream.on('data', c => tarHash.update(c))
  const done = pipeline(tarStream, gz, fileOut)
  await tarDirectory(dir, name, tarStream)
  tarStream.end()
  await done
  return {
    path: gzPath,
    digest: 'sha256:' + gzHash.digest('hex'),
    size: gzSize,
    tarDigest: 'sha256:' + tarHash.digest('hex')
  }
}

function parseTar(buf) {
  const entries = []
  let off = 0
  let paxPath
  let longName
  const str = (b, s, l) => {
    const sub = b.subarray(s, s + l)
    const z = sub.indexOf(0)
    return sub.subarray(0, z < 0 ? sub.length : z).toString('utf8')
  }
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512)
    if (h.every(b => b === 0)) break
    let name = str(h, 0, 100)
    const prefix = str(h, 345, 155)
    if (prefix && str(h, 257, 6).startsWith('ustar')) name = prefix + '/' + name
    const mode = parseInt(str(h, 100, 8).trim() || '0', 8)
    const size = parseInt(str(h, 124, 12).trim() || '0', 8)
    const type = String.fromCharCode(h[156] || 48)
    const linkname = str(h, 157, 100)
    const data = buf.subarray(off + 512, off + 512 + size)
    off += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') {
      const text = data.toString('utf8')
      const m = /\d+ path=([^\n]*)\n/.exec(text)
      if (m) paxPath = m[1]
      continue
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '')
      continue
    }
    if (type === 'g') continue
    if (paxPath) name = paxPath
    else if (longName) name = longName
    paxPath = undefined
    longName = undefined
    entries.push({ name, mode, type, linkname, data })
  }
  return entries
}

function extractTarGz(buf, outDir, allowTraversal) {
  const entries = parseTar(zlib.gunzipSync(buf))
  const root = path.resolve(outDir)
  for (const e of entries) {
    const target = path.resolve(root, e.name)
    if (!allowTraversal && target !== root && !target.startsWith(root + path.sep)) {
      throw new CLIError(`${e.name}: path traversal disallowed`)
    }
    if (e.type === '5') fs.mkdirSync(target, { recursive: true })
    else if (e.type === '2') {
      fs.mkdirSync(path.dirname(target), { recursive: true })
      try {
        fs.unlinkSync(target)
      } catch {
        // not there
      }
      fs.symlinkSync(e.linkname, target)
    } else if (e.type === '0' || e.type === '\0' || e.type === '7') {
      fs.mkdirSync(path.dirname(target), { recursive: true })
      fs.writeFileSync(target, e.data, { mode: e.mode & 0o777 })
    }
  }
}

module.exports = { extractTarGz, packDirectory }
