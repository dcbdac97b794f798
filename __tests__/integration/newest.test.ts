import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { readdir } from 'node:fs/promises'
import { runAction, type ActionRun } from '../support/action.js'
import { generateRelease } from '../support/hook-release.js'
import type { ApiRelease, TestServer } from '../support/server.js'
import { startReleaseServer, type ReleaseServer } from '../support/world.js'

// hook-version: newest resolves the highest vX.Y.Z through the GitHub releases API (hook marks
// every release a prerelease), honouring GITHUB_API_URL; here the API is the loopback server.

let server: TestServer
let ground: ReleaseServer | undefined
let removeFault: (() => void) | undefined

const RELEASES: ApiRelease[] = [
  { tag_name: 'latest', name: 'Hook Latest Development Build' },
  { tag_name: 'v0.12.0', draft: true },
  { tag_name: 'v0.12.0-rc.1' },
  { tag_name: 'v0.9.0' },
  { tag_name: 'v0.11.1' },
  { tag_name: 'v0.10.0' },
  { tag_name: 'v0.11.0' },
  { tag_name: 'nightly-2024' }
]

beforeAll(async () => {
  ground = await startReleaseServer('hook-newest-')
  server = ground.server
  await generateRelease(ground.releases, { tag: 'v0.11.1' })
  // Two per page: the action must follow the Link header through four pages.
  server.releasesApi('tinkerbell/hook', RELEASES, { perPage: 2 })
  server.releasesApi('empty-org/hook', [{ tag_name: 'latest' }])
})

afterEach(() => {
  removeFault?.()
  removeFault = undefined
})

afterAll(async () => {
  await ground?.stop()
})

function run(extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    inputs: {
      'hook-version': 'newest',
      'download-url': `${server.url}/releases`,
      'github-token': 'test-token-123',
      ...extra
    },
    env: { GITHUB_API_URL: server.url }
  })
}

async function failure(r: ActionRun): Promise<string> {
  expect(r.exitCode).toBe(1)
  expect(r.errors).toHaveLength(1)
  expect(await readdir(r.env['RUNNER_TEMP']!)).toEqual([])
  return r.errors[0]!
}

describe('hook-version: newest', () => {
  it('pages through every release, skips drafts, rc tags and the rolling latest', async () => {
    server.resetRequests()
    const r = await run({ variant: 'lts', push: 'false' })
    expect(r.exitCode).toBe(0)
    expect(r.outputs['version']).toBe('v0.11.1')
    expect(r.stdout).toContain('newest release of tinkerbell/hook: v0.11.1')
    const api = server.requests(/\/repos\/tinkerbell\/hook\/releases/)
    expect(api.length).toBeGreaterThanOrEqual(4)
    expect(api.every(q => q.authorization === 'token test-token-123')).toBe(true)
    // The resolved tag is what everything else uses.
    expect(server.requests(/checksum\.txt$/).map(q => q.path)).toEqual([
      '/releases/v0.11.1/checksum.txt'
    ])
    expect(JSON.parse(r.outputs['files']!)).toHaveLength(10)
  })

  it('lists the variants of the newest release in list mode', async () => {
    const r = await run()
    expect(r.exitCode).toBe(0)
    expect(r.outputs['version']).toBe('v0.11.1')
    expect(JSON.parse(r.outputs['variants']!)).toContain('lts-all')
  })

  it('goes anonymous with an empty token', async () => {
    server.resetRequests()
    const r = await run({ 'github-token': '' })
    expect(r.exitCode).toBe(0)
    expect(server.requests(/\/releases\?/).every(q => q.authorization === undefined)).toBe(true)
  })

  it('the token is masked', async () => {
    const r = await run()
    expect(r.stdout).toContain('::add-mask::test-token-123')
  })

  it('a rejected token: a clear message', async () => {
    removeFault = server.fault({
      path: /\/releases$/,
      kind: 'status',
      status: 401,
      body: '{"message":"Bad credentials"}'
    })
    expect(await failure(await run())).toBe(
      'listing the releases of tinkerbell/hook through the GitHub API failed: HTTP 401, github-token was rejected; pass a valid token or leave it empty'
    )
  })

  it('a rate limit: says when it resets and what to do', async () => {
    removeFault = server.fault({
      path: /\/releases$/,
      kind: 'status',
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1893456000' },
      body: '{"message":"API rate limit exceeded"}'
    })
    expect(await failure(await run({ 'github-token': '' }))).toBe(
      'listing the releases of tinkerbell/hook through the GitHub API failed: API rate limit exceeded until 2030-01-01T00:00:00.000Z; pass github-token (the default ${{ github.token }} works)'
    )
  })

  it('an unknown repository', async () => {
    expect(await failure(await run({ 'hook-repository': 'nobody/nothing' }))).toBe(
      'listing the releases of nobody/nothing through the GitHub API failed: HTTP 404, no such repository (check hook-repository and GITHUB_API_URL)'
    )
  })

  it('a repository with no vX.Y.Z release', async () => {
    expect(await failure(await run({ 'hook-repository': 'empty-org/hook' }))).toBe(
      'empty-org/hook has no published vX.Y.Z release (1 releases listed); use hook-version latest or a tag'
    )
  })
})
