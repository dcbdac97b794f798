import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import * as path from 'node:path'
import { parse } from 'yaml'
import { ROOT, defaults, runAction } from '../support/action.js'
import { STANDARD_NAMES, generateRelease, type GeneratedRelease } from '../support/hook-release.js'
import { buildOrasRelease } from '../support/oras-release.js'
import type { TestServer } from '../support/server.js'
import { startReleaseServer, type ReleaseServer } from '../support/world.js'

// The built bundle, run as GitHub runs it: node24, every action.yml default filled in by the
// "runner", inputs as INPUT_* variables, outputs and summary through their files.

let dir: string
let server: TestServer
let ground: ReleaseServer | undefined
let release: GeneratedRelease

beforeAll(async () => {
  ground = await startReleaseServer('hook-e2e-')
  dir = ground.dir
  server = ground.server
  release = await generateRelease(ground.releases)
})

afterAll(async () => {
  await ground?.stop()
})

describe('dist/index.js under Node 24 with the runner’s defaults', () => {
  it('action.yml runs dist/index.js on node24, and the tests run it on Node 24', async () => {
    const action = parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as {
      runs: { using: string; main: string }
    }
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    expect(execFileSync(process.execPath, ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./)
  })

  it('declares every input the code reads, and the runner fills each default', async () => {
    const all = await defaults({ actor: 'octocat', token: 'ghs_x' })
    expect(Object.keys(all).sort()).toEqual(
      [
        'annotations',
        'artifact-type',
        'bundle-dir',
        'created',
        'download-timeout',
        'download-url',
        'extra-files',
        'format',
        'github-token',
        'hook-repository',
        'hook-version',
        'image',
        'iso',
        'latest',
        'oras-checksum',
        'oras-url',
        'oras-version',
        'password',
        'plain-http',
        'push',
        'skip-published',
        'tags',
        'username',
        'variant'
      ].sort()
    )
    expect(all).toMatchObject({
      username: 'octocat',
      password: 'ghs_x',
      'github-token': 'ghs_x',
      push: 'true'
    })
  })

  it('builds a bundle and writes the outputs file and the job summary', async () => {
    const run = await runAction({
      runnerDefaults: true,
      inputs: {
        'hook-version': release.tag,
        variant: 'lts',
        'download-url': `${server.url}/releases`,
        push: 'false'
      }
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(Object.keys(run.outputs).sort()).toEqual([
      'bundle-dir',
      'files',
      'pushed',
      'variants',
      'version'
    ])
    expect(run.outputs['version']).toBe('v0.11.1')
    expect(run.outputs['pushed']).toBe('false')
    const files = JSON.parse(run.outputs['files']!) as Array<{ name: string; target?: string }>
    expect(files.filter(f => f.target).map(f => f.name)).toEqual(STANDARD_NAMES)
    expect(run.summary).toMatch(/<h2>Hook v0.11.1 lts<\/h2>/)
    expect(run.summary).toContain('<td>vmlinuz-x86_64</td>')
    expect(run.summary).toContain('Not pushed (push: false).')
    // Log groups per stage, with sizes and durations.
    expect(run.stdout).toMatch(/::group::Release\n/)
    expect(run.stdout).toMatch(/::group::Bundle lts\n/)
    expect(run.stdout).toMatch(
      /hook_latest-lts-x86_64.tar.gz: downloaded 20\.\d KiB in \d+\.\d\d s \(.+\/s\), sha512 verified/
    )
  })

  it('a refused input fails with one error line and no request', async () => {
    server.resetRequests()
    const run = await runAction({
      inputs: { 'hook-version': 'bogus', 'download-url': `${server.url}/releases` }
    })
    expect(run.exitCode).toBe(1)
    expect(server.requests()).toEqual([])
    expect(run.errors).toEqual([
      'hook-version "bogus" is not a hook release: use a tag such as v0.11.1, latest (the rolling build) or newest (the highest vX.Y.Z tag)'
    ])
  })
})

describe('npm run local (the README’s second command)', () => {
  async function local(cwd: string, args: string[]): Promise<{ code: unknown; out: string }> {
    const child = spawn(process.execPath, [path.join(ROOT, 'script', 'local.mjs'), ...args], {
      cwd,
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        RUNNER_TOOL_CACHE: path.join(cwd, 'tool-cache')
      }
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const code = await new Promise(resolve => child.on('close', resolve))
    return { code, out }
  }

  it('runs the action against a mirror without GitHub', async () => {
    const cwd = await mkdtemp(path.join(dir, 'local-'))
    const { code, out } = await local(cwd, [
      '--hook-version',
      release.tag,
      '--variant',
      'armbian-bcm2711',
      '--download-url',
      `${server.url}/releases`,
      '--push',
      'false'
    ])
    expect({ code, out }).toMatchObject({ code: 0 })
    expect(out).toContain('outputs:\n  version: v0.11.1\n')
    expect(out).toContain(`  bundle-dir: ${path.join(cwd, 'hook-bundle', 'armbian-bcm2711')}`)
    expect(out).toContain('  pushed: false')
    // Read as a runner's log view shows it: groups as headings, no workflow commands, no debug.
    expect(out).toContain('\n== Release\n')
    expect(out).toContain('\n== Bundle armbian-bcm2711\n')
    expect(out.split('\n').filter(l => l.startsWith('::'))).toEqual([])
    expect(out).not.toContain('debug:')
  })

  it('shows the debug log with --debug, as RUNNER_DEBUG=1 does on a runner', async () => {
    const cwd = await mkdtemp(path.join(dir, 'local-'))
    const { code, out } = await local(cwd, [
      '--hook-version',
      release.tag,
      '--download-url',
      `${server.url}/releases`,
      '--push',
      'false',
      '--debug'
    ])
    expect({ code, out }).toMatchObject({ code: 0 })
    expect(out).toMatch(/^debug: /m)
    expect(out.split('\n').filter(l => l.startsWith('::'))).toEqual([])
  })

  it('a failure reads as one error sentence and keeps the exit code; masked values never show', async () => {
    const cwd = await mkdtemp(path.join(dir, 'local-'))
    const { code, out } = await local(cwd, [
      '--hook-version',
      'v9.9.9',
      '--download-url',
      `${server.url.replace('http://', 'http://mirror:Pa55w0rd@')}/releases`,
      '--push',
      'false'
    ])
    expect(code).toBe(1)
    expect(out).toMatch(
      /^Error: checksum\.txt of tinkerbell\/hook v9\.9\.9 not found: http:\/\/127\.0\.0\.1:\d+\/releases\/v9\.9\.9\/checksum\.txt answered HTTP 404/m
    )
    expect(out).not.toContain('::')
    expect(out).not.toContain('Pa55w0rd')
  })

  it('pushes into the embedded default target, the OCI layout ./hook-bundle-oci, again and again', async () => {
    const oras = await buildOrasRelease(path.join(dir, 'oras'))
    server.serveDir('/oras', path.join(dir, 'oras'))
    const cwd = await mkdtemp(path.join(dir, 'local-'))
    const args = [
      '--hook-version',
      release.tag,
      '--download-url',
      `${server.url}/releases`,
      '--oras-url',
      `${server.url}/oras/${oras.assetName}`,
      '--oras-checksum',
      oras.sha256
    ]
    for (let run = 0; run < 2; run++) {
      const { code, out } = await local(cwd, args)
      expect({ code, out }).toMatchObject({ code: 0 })
      expect(out).toContain('  pushed: true')
      expect(out).toContain(`  image: oci-layout:./hook-bundle-oci`)
    }
    const index = JSON.parse(
      await readFile(path.join(cwd, 'hook-bundle-oci', 'index.json'), 'utf8')
    ) as {
      manifests: Array<{ annotations: Record<string, string> }>
    }
    expect(
      index.manifests.map(m => m.annotations['org.opencontainers.image.ref.name']).sort()
    ).toEqual(['v0.11.1', 'v0.11.1-lts'])
  })
})
