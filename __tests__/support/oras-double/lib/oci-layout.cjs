'use strict'
// An OCI image layout directory as a store (oras-go content/oci).

const fs = require('node:fs')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { ANNOTATION_REF_NAME, MANIFEST_TYPES, MT_INDEX } = require('./constants.cjs')
const { CLIError } = require('./errors.cjs')
const { descJSONValue, goJSON } = require('./go.cjs')

class OCILayoutStore {
  constructor(root, create) {
    this.root = path.resolve(root)
    this.indexPath = path.join(this.root, 'index.json')
    if (create) {
      fs.mkdirSync(path.join(this.root, 'blobs'), { recursive: true })
      const layoutFile = path.join(this.root, 'oci-layout')
      if (!fs.existsSync(layoutFile)) fs.writeFileSync(layoutFile, '{"imageLayoutVersion":"1.0.0"}')
    }
    this.tagged = new Map() // tag -> desc
    this.untagged = new Map() // digest -> desc
    this.extra = {}
    if (fs.existsSync(this.indexPath)) {
      let index
      try {
        index = JSON.parse(fs.readFileSync(this.indexPath, 'utf8'))
      } catch (e) {
        throw new CLIError(`invalid OCI Image Index: failed to decode index file: ${e.message}`)
      }
      for (const d of index.manifests || []) {
        const name = d.annotations && d.annotations[ANNOTATION_REF_NAME]
        if (name) {
          const copy = Object.assign({}, d, { annotations: Object.assign({}, d.annotations) })
          delete copy.annotations[ANNOTATION_REF_NAME]
          if (Object.keys(copy.annotations).length === 0) delete copy.annotations
          this.tagged.set(name, copy)
        } else {
          this.untagged.set(d.digest, d)
        }
      }
    } else if (create) {
      this.saveIndex()
    } else {
      throw new CLIError(
        `invalid OCI Image Index: failed to open index file: open ${this.indexPath}: no such file or directory`
      )
    }
  }

  blobPath(digest) {
    const [alg, hex] = digest.split(':')
    return path.join(this.root, 'blobs', alg, hex)
  }

  exists(desc) {
    return fs.existsSync(this.blobPath(desc.digest))
  }

  async push(desc, body) {
    const p = this.blobPath(desc.digest)
    if (fs.existsSync(p)) return
    fs.mkdirSync(path.dirname(p), { recursive: true })
    const tmp = p + `.tmp-${process.pid}`
    if (Buffer.isBuffer(body)) fs.writeFileSync(tmp, body)
    else await pipeline(body.open(), fs.createWriteStream(tmp))
    fs.renameSync(tmp, p)
    if (MANIFEST_TYPES.includes(desc.mediaType)) {
      if (![...this.tagged.values()].some(d => d.digest === desc.digest))
        this.untagged.set(desc.digest, desc)
      this.saveIndex()
    }
  }

  tag(desc, ref) {
    if (!this.exists(desc)) {
      const e = new CLIError(`${desc.digest}: ${desc.mediaType}: not found`)
      e.notFound = true
      throw e
    }
    if (ref !== desc.digest) {
      this.tagged.set(ref, desc)
      this.untagged.delete(desc.digest)
    }
    this.saveIndex()
  }

  resolve(ref) {
    if (this.tagged.has(ref)) return this.tagged.get(ref)
    for (const d of [...this.tagged.values(), ...this.untagged.values()]) {
      if (d.digest === ref) return { mediaType: d.mediaType, digest: d.digest, size: d.size }
    }
    const e = new CLIError(`${ref}: not found`)
    e.notFound = true
    throw e
  }

  read(desc) {
    return fs.readFileSync(this.blobPath(desc.digest))
  }

  saveIndex() {
    const manifests = []
    for (const [ref, d] of this.tagged) {
      const ann = Object.assign({}, d.annotations || {}, { [ANNOTATION_REF_NAME]: ref })
      manifests.push(descJSONValue(Object.assign({}, d, { annotations: ann })))
    }
    const taggedDigests = new Set([...this.tagged.values()].map(d => d.digest))
    for (const [dg, d] of this.untagged)
      if (!taggedDigests.has(dg)) manifests.push(descJSONValue(d))
    const index = { schemaVersion: 2, mediaType: MT_INDEX, manifests }
    fs.writeFileSync(this.indexPath, goJSON(index))
  }

  tags() {
    return [...this.tagged.keys()].sort()
  }
}

module.exports = { OCILayoutStore }
