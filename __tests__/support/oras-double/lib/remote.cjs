'use strict'
// A remote repository: manifests, blobs and tags over the distribution API (oras-go registry/remote).

const { MANIFEST_TYPES } = require('./constants.cjs')
const { CLIError, errorResponse } = require('./errors.cjs')
const { goQuote, sha256Hex } = require('./go.cjs')
const { goMethod, goQueryEncode, roundTrip } = require('./http.cjs')
const { isDigestRef } = require('./reference.cjs')

class RemoteRepository {
  constructor(client, ref) {
    this.client = client
    this.registry = ref.registry
    this.repository = ref.repository
    this.base = `${client.base(ref.registry)}/v2/${ref.repository}`
  }

  pullScope() {
    return [`repository:${this.repository}:pull`]
  }
  pushScope() {
    return [`repository:${this.repository}:pull,push`]
  }

  async resolveManifest(reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('HEAD', url, {
      headers: { Accept: MANIFEST_TYPES.join(', ') },
      scopes: this.pullScope()
    })
    if (res.status === 200) {
      const mediaType = String(res.headers['content-type'] || '')
        .split(';')[0]
        .trim()
      const digest = String(
        res.headers['docker-content-digest'] || (isDigestRef(reference) ? reference : '')
      )
      const size = parseInt(String(res.headers['content-length'] || '0'), 10)
      return { mediaType, digest, size }
    }
    if (res.status === 404) {
      const e = new CLIError(`${reference}: not found`)
      e.notFound = true
      throw e
    }
    throw errorResponse('HEAD', url, res.status, res.body)
  }

  async manifestExists(desc) {
    try {
      await this.resolveManifest(desc.digest)
      return true
    } catch (e) {
      if (e.notFound) return false
      throw e
    }
  }

  async fetchManifest(reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('GET', url, {
      headers: { Accept: MANIFEST_TYPES.join(', ') },
      scopes: this.pullScope()
    })
    if (res.status === 404) {
      const e = new CLIError(`${reference}: not found`)
      e.notFound = true
      throw e
    }
    if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
    const mediaType = String(res.headers['content-type'] || '')
      .split(';')[0]
      .trim()
    const digest = 'sha256:' + sha256Hex(res.body)
    return { desc: { mediaType, digest, size: res.body.length }, content: res.body }
  }

  async blobExists(desc) {
    const url = `${this.base}/blobs/${desc.digest}`
    const res = await this.client.request('HEAD', url, { scopes: this.pullScope() })
    if (res.status === 200) return true
    if (res.status === 404) return false
    throw errorResponse('HEAD', url, res.status, res.body)
  }

  async fetchBlob(desc) {
    let url = `${this.base}/blobs/${desc.digest}`
    let res = await this.client.request('GET', url, { scopes: this.pullScope() })
    for (let i = 0; i < 5 && [301, 302, 303, 307, 308].includes(res.status); i++) {
      url = new URL(String(res.headers.location), url).toString()
      res = await roundTrip(this.client, 'GET', url, {}, undefined)
    }
    if (res.status === 404) {
      const e = new CLIError(`${desc.digest}: not found`)
      e.notFound = true
      throw e
    }
    if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
    return res.body
  }

  // blobStore.Push: POST for an upload session, then a monolithic PUT streaming the content.
  async pushBlob(desc, body) {
    const postURL = `${this.base}/blobs/uploads/`
    const res = await this.client.request('POST', postURL, { scopes: this.pushScope() })
    if (res.status !== 202) throw errorResponse('POST', postURL, res.status, res.body)
    const loc = res.headers.location
    if (!loc) throw new CLIError(`${goMethod('POST')} ${goQuote(postURL)}: missing Location header`)
    const location = new URL(String(loc), postURL)
    const q = new URLSearchParams(location.search)
    q.set('digest', desc.digest)
    const putURL = `${location.protocol}//${location.host}${location.pathname}?${goQueryEncode(q)}`
    const headers = { 'Content-Type': 'application/octet-stream' }
    const put = await this.client.request('PUT', putURL, {
      headers,
      body,
      scopes: this.pushScope()
    })
    if (put.status !== 201) throw errorResponse('PUT', putURL, put.status, put.body)
  }

  async pushManifest(desc, content, reference) {
    const url = `${this.base}/manifests/${reference}`
    const res = await this.client.request('PUT', url, {
      headers: { 'Content-Type': desc.mediaType },
      body: content,
      scopes: this.pushScope()
    })
    if (res.status !== 201) throw errorResponse('PUT', url, res.status, res.body)
    const got = res.headers['docker-content-digest']
    if (got && String(got) !== desc.digest) {
      throw new CLIError(
        `PUT ${goQuote(url)}: invalid response; digest mismatch in Docker-Content-Digest: received ${goQuote(String(got))} when expecting ${goQuote(desc.digest)}`
      )
    }
  }

  async tags() {
    const all = []
    let url = `${this.base}/tags/list`
    for (;;) {
      const res = await this.client.request('GET', url, { scopes: this.pullScope() })
      if (res.status !== 200) throw errorResponse('GET', url, res.status, res.body)
      const body = JSON.parse(res.body.toString('utf8') || '{}')
      all.push(...(body.tags || []))
      const link = res.headers.link
      const m = link ? /<([^>]+)>/.exec(String(link)) : null
      if (!m) break
      url = new URL(m[1], url).toString()
    }
    return all
  }
}

module.exports = { RemoteRepository }
