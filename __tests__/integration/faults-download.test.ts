import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { readdir } from 'node:fs/promises'
import { runAction, type ActionRun } from '../support/action.js'
import { startServer, startSilentServer, type TestServer } from '../support/server.js'
import { useReleaseGround } from '../support/ground.js'

// Issue 17, the download side: redirects followed by the action itself (credentials only to
// their own origin, relative Locations, a cap, no redirect body ever read), stalls and silent
// hosts ending an attempt in seconds, a host name that does not resolve failing at once, and
// no URL printed with its query, fragment or user info. Every failure: exit code 1, one
// one-line error annotation, nothing left in RUNNER_TEMP.

const g = useReleaseGround('hook-downloads-')
const stops: Array<() => Promise<void>> = []
const fault = (rule: Parameters<TestServer['fault']>[0]): (() => void) => g.fault(rule)
const inputs = (extra: Record<string, string> = {}): Record<string, string> =>
  g.inputs('lts', extra)

beforeAll(() => {
  g.server.serveDir('/cdn', g.releases)
})

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
  g.server.resetRequests()
})

/** The failure contract; returns the one error line. */
async function expectFailure(run: ActionRun): Promise<string> {
  expect({
    exitCode: run.exitCode,
    errors: run.errors.length,
    stderr: run.stderr
  }).toEqual({ exitCode: 1, errors: 1, stderr: '' })
  const error = run.errors[0]!
  expect(error).not.toMatch(/\n|%0A/)
  expect(run.outputs['bundle-dir']).toBeUndefined()
  expect(await readdir(run.env['RUNNER_TEMP']!)).toEqual([])
  return error
}

const LTS_X86 = /hook_latest-lts-x86_64\.tar\.gz$/
const X86_ASSET = 'hook_latest-lts-x86_64.tar.gz'
const toCdn = (target: string): string => target.replace(/^\/releases\//, '/cdn/')
const cdn = (target: string): string => `${g.server.url}${toCdn(target)}`

describe('redirects', () => {
  it('credentials go only to their origin: a redirect to another port of the same host gets no Authorization', async () => {
    const other = await startServer()
    stops.push(() => other.stop())
    other.serveDir('/releases', g.releases)
    fault({ path: /^\/releases\//, kind: 'redirect', location: t => `${other.url}${t}` })
    const mirror = g.server.url.replace('http://', 'http://mirror:s3cret@')
    const run = await runAction({ inputs: inputs({ 'download-url': `${mirror}/releases` }) })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const basic = `Basic ${Buffer.from('mirror:s3cret').toString('base64')}`
    const asked = g.server.requests()
    expect(asked.length).toBeGreaterThan(0)
    for (const r of asked) expect(r.authorization).toBe(basic)
    const redirected = other.requests()
    expect(redirected.map(r => r.status)).toEqual(redirected.map(() => 200))
    expect(redirected.length).toBe(asked.length)
    for (const r of redirected) expect(r.authorization).toBeUndefined()
  })

  it('a relative Location (/cdn/<tag>/<asset>) is resolved against the request URL', async () => {
    fault({ path: /^\/releases\//, kind: 'redirect', location: toCdn })
    const run = await runAction({ inputs: inputs() })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(g.server.requests(/^\/cdn\//).map(r => [r.path, r.status])).toEqual(
      expect.arrayContaining([
        [`/cdn/${g.release.tag}/checksum.txt`, 200],
        [`/cdn/${g.release.tag}/${X86_ASSET}`, 200]
      ])
    )
  })

  it('a redirect loop ends after 10 redirects with "too many redirects"', async () => {
    fault({ path: LTS_X86, kind: 'redirect' })
    const error = await expectFailure(await runAction({ inputs: inputs() }))
    const url = `${g.server.url}/releases/${g.release.tag}/${X86_ASSET}`
    expect(error).toBe(
      `${X86_ASSET}: too many redirects from ${url} (more than 10, the last to ${url}); the server redirects in a loop or too deep, check the URL`
    )
    expect(g.server.requests(LTS_X86)).toHaveLength(11)
  })

  it('a redirect whose body never comes is followed at once, its body unread', async () => {
    fault({ path: /^\/releases\/.*lts-x86_64/, kind: 'redirect-stall', location: cdn })
    const run = await runAction({ inputs: inputs({ 'download-timeout': '10' }) })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.ms).toBeLessThan(8_000)
  })

  it('a redirect with an endless body is followed at once, its body unread', async () => {
    fault({ path: /^\/releases\/.*lts-x86_64/, kind: 'redirect-endless', location: cdn })
    const run = await runAction({ inputs: inputs({ 'download-timeout': '10' }) })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const [redirect] = g.server.requests(/^\/releases\/.*lts-x86_64/)
    // What the socket buffers took before the client closed it, not a buffered body.
    expect(redirect?.bodyBytes ?? 0).toBeLessThan(16 << 20)
  })

  it('download-timeout while redirected (an endless redirect body, then a hang): one error line, exit 1, nothing left', async () => {
    fault({ path: /^\/releases\/.*lts-x86_64/, kind: 'redirect-endless', location: cdn })
    fault({ path: /^\/cdn\/.*lts-x86_64/, kind: 'hang' })
    const run = await runAction({ inputs: inputs({ 'download-timeout': '2' }) })
    const error = await expectFailure(run)
    expect(error).toBe(
      `downloading ${X86_ASSET} from ${g.server.url}/releases/${g.release.tag}/${X86_ASSET} took longer than download-timeout (2 s): the server is stalled or too slow; retry, raise download-timeout or use a mirror (download-url)`
    )
    expect(run.stderr).not.toMatch(/unsettled top-level await/)
    for (const r of g.server.requests(/^\/releases\/.*lts-x86_64/))
      expect(r.bodyBytes ?? 0).toBeLessThan(16 << 20)
  })
})

describe('stalls, silent hosts, names that do not resolve', () => {
  const STALL = { TEST_HOOK_BUNDLE_STALL_SECONDS: '1', TEST_HOOK_BUNDLE_CONNECT_SECONDS: '1' }

  it('a body that stalls mid-way is retried after the stall limit, not at download-timeout', async () => {
    fault({ path: LTS_X86, kind: 'stall-mid-body', times: 1 })
    const run = await runAction({ inputs: inputs({ 'download-timeout': '30' }), env: STALL })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(g.server.requests(LTS_X86)).toHaveLength(2)
    expect(run.stdout).toContain(`${X86_ASSET}: no data for 1 s (the stall limit)`)
    expect(run.ms).toBeLessThan(20_000)
  })

  it('a body that stalls every time fails after 3 attempts, naming the stall', async () => {
    fault({ path: LTS_X86, kind: 'stall-mid-body' })
    const run = await runAction({ inputs: inputs({ 'download-timeout': '30' }), env: STALL })
    const error = await expectFailure(run)
    expect(error).toBe(
      `could not download ${X86_ASSET} from ${g.server.url}/releases/${g.release.tag}/${X86_ASSET} after 3 attempts: no data for 1 s (the stall limit)`
    )
    expect(run.ms).toBeLessThan(20_000)
  })

  it('a host that takes the connection and never answers: each attempt ends in seconds', async () => {
    const silent = await startSilentServer()
    stops.push(() => silent.stop())
    const run = await runAction({
      inputs: inputs({ 'download-url': `${silent.url}/releases`, 'download-timeout': '20' }),
      env: STALL
    })
    const error = await expectFailure(run)
    const host = silent.url.replace('http://', '')
    expect(error).toBe(
      `could not download checksum.txt of tinkerbell/hook ${g.release.tag} from ${silent.url}/releases/${g.release.tag}/checksum.txt after 3 attempts: no answer from ${host} (no connection within 1 s, or no response within 1 s of connecting)`
    )
    expect(silent.connections()).toBe(3)
    expect(run.ms).toBeLessThan(15_000)
  })

  it('a host name that does not resolve fails at once, in one line naming it', async () => {
    const run = await runAction({
      inputs: inputs({ 'download-url': 'http://hook-mirror.invalid/releases' })
    })
    const error = await expectFailure(run)
    expect(error).toMatch(
      new RegExp(
        `^could not download checksum.txt of tinkerbell/hook ${g.release.tag.replace(/\./g, '\\.')} from http://hook-mirror\\.invalid/releases/\\S+/checksum\\.txt: the host name hook-mirror\\.invalid does not resolve \\((ENOTFOUND|EAI_AGAIN)\\); check the URL's host name and the runner's DNS$`
      )
    )
    expect(run.stdout).not.toContain('before trying again')
  })
})

describe('no URL is printed with its query, fragment or user info', () => {
  const SECRET = 'sig-0123456789abcdef'

  it('a download-url with a token in its query is refused without printing it', async () => {
    const run = await runAction({
      inputs: inputs({ 'download-url': `https://mirror.example/hook?token=${SECRET}` })
    })
    const error = await expectFailure(run)
    expect(error).toBe(
      'download-url "https://mirror.example/hook" has a query string (not shown): assets are fetched from <download-url>/<tag>/<asset>, so give a base URL without "?" or "#"'
    )
    expect(run.stdout).not.toContain(SECRET)
    expect(g.server.requests()).toEqual([])
  })

  it('an oras-url with a signature in its query: neither the log nor the error shows it', async () => {
    const run = await runAction({
      inputs: inputs({
        push: 'true',
        image: '127.0.0.1:9/hook/images',
        'oras-url': `${g.server.url}/oras/oras_1.3.4_linux_amd64.tar.gz?X-Amz-Signature=${SECRET}#frag`,
        'oras-checksum': 'a'.repeat(64)
      })
    })
    const error = await expectFailure(run)
    expect(error).toBe(
      `oras 1.3.4 archive not found: ${g.server.url}/oras/oras_1.3.4_linux_amd64.tar.gz answered HTTP 404; check the version, the repository and download-url`
    )
    expect(run.stdout).not.toContain(SECRET)
    expect(run.stdout).not.toContain('#frag')
  })
})
