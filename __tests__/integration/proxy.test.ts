import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ok, runAction } from '../support/action.js'
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js'
import { generateRelease } from '../support/hook-release.js'
import type { TestServer } from '../support/server.js'
import { startReleaseServer, type ReleaseServer } from '../support/world.js'

// Behind a proxy every request goes through it: the archives and checksum.txt through
// @actions/http-client (tunnel), the GitHub API through Octokit on undici's fetch and ProxyAgent.
// undici is bundled into dist/index.js as @actions/http-client and @actions/github use it.

let server: TestServer
let ground: ReleaseServer | undefined
let proxy: ConnectProxy
let port: string

beforeAll(async () => {
  ground = await startReleaseServer('hook-proxy-')
  server = ground.server
  await generateRelease(ground.releases, { tag: 'v0.11.1' })
  server.releasesApi(
    'tinkerbell/hook',
    [
      { tag_name: 'latest' },
      { tag_name: 'v0.10.0' },
      { tag_name: 'v0.11.1' },
      { tag_name: 'v0.9.0' }
    ],
    { perPage: 2 }
  )
  proxy = await startConnectProxy()
  port = new URL(server.url).port
})

afterAll(async () => {
  await proxy?.stop()
  await ground?.stop()
})

describe('behind a proxy (http_proxy)', () => {
  it('lists releases through the GitHub API and downloads, every request tunnelled', async () => {
    // Names that resolve nowhere: only the proxy can reach them (it tunnels to 127.0.0.1).
    const r = ok(
      await runAction({
        inputs: {
          'hook-version': 'newest',
          variant: 'lts',
          push: 'false',
          'download-url': `http://releases.hook.test:${port}/releases`,
          'github-token': 'test-token-123'
        },
        env: { GITHUB_API_URL: `http://api.hook.test:${port}`, http_proxy: proxy.url }
      })
    )
    expect(r.outputs['version']).toBe('v0.11.1')
    const api = server.requests(/\/repos\/tinkerbell\/hook\/releases/)
    // Two per page: the Link header is followed through the proxy too.
    expect(api.length).toBeGreaterThanOrEqual(2)
    expect(api.every(q => q.authorization === 'token test-token-123')).toBe(true)
    expect(new Set(proxy.tunnels)).toEqual(
      new Set([`api.hook.test:${port}`, `releases.hook.test:${port}`])
    )
    expect(proxy.refused).toEqual([])
  })
})
