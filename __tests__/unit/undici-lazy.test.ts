import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as semver from 'semver'

// vendor/undici-lazy stands in for undici (package.json overrides): it must be undici itself,
// only evaluated later.

const ROOT = path.resolve(import.meta.dirname, '..', '..')

interface Probe {
  resolved: string
  loadedOnRequire: boolean
  loadedOnRead: boolean
  names: string[]
  realNames: string[]
  different: string[]
  proxyAgentIsReal: boolean
}

/** What `require('undici')` gives a package of this checkout, in a fresh Node. */
function probe(): Probe {
  const script = `
    const loaded = () => Object.keys(require.cache).some(f => f.includes('/node_modules/undici-real/'))
    const shim = require('undici')
    const out = { resolved: require.resolve('undici'), loadedOnRequire: loaded(), names: Object.keys(shim) }
    const ProxyAgent = shim.ProxyAgent
    out.loadedOnRead = loaded()
    const real = require('undici-real')
    out.realNames = Object.keys(real)
    out.different = out.realNames.filter(name => shim[name] !== real[name])
    const agent = new ProxyAgent('http://127.0.0.1:9')
    out.proxyAgentIsReal = agent instanceof real.ProxyAgent && agent instanceof real.Dispatcher
    agent.destroy()
    console.log(JSON.stringify(out))`
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })
  ) as Probe
}

describe('undici, evaluated on first use (vendor/undici-lazy)', () => {
  it('is what undici resolves to, and evaluates nothing of undici until an export is read', () => {
    const p = probe()
    expect(p.resolved).toBe(path.join(ROOT, 'vendor', 'undici-lazy', 'index.cjs'))
    expect(p.loadedOnRequire).toBe(false)
    expect(p.loadedOnRead).toBe(true)
  })

  it("has exactly undici's exports, each the very same value", () => {
    const p = probe()
    expect(p.names).toEqual(p.realNames)
    expect(p.different).toEqual([])
    expect(p.proxyAgentIsReal).toBe(true)
  })

  it("gives Node's own ESM import every name, as the toolkit's ESM modules import them", () => {
    // @actions/http-client does `import { ProxyAgent } from 'undici'`: outside the bundle, Node
    // finds a CommonJS module's names by reading its source, and must find all of undici's.
    const script = `
      import * as shim from 'undici'
      import { ProxyAgent, fetch } from 'undici'
      import { HttpClient } from '@actions/http-client'
      const { createRequire } = await import('node:module')
      const real = createRequire(process.cwd() + '/')('undici-real')
      const missing = Object.keys(real).filter(name => !(name in shim))
      console.log(JSON.stringify({ missing, same: ProxyAgent === real.ProxyAgent && fetch === real.fetch, client: typeof HttpClient }))`
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8'
      })
    ) as { missing: string[]; same: boolean; client: string }
    expect(out).toEqual({ missing: [], same: true, client: 'function' })
  })

  it('pins a version that every package depending on undici accepts', async () => {
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { name?: string; version?: string; dependencies?: Record<string, string> }
      >
    }
    const real = lock.packages['node_modules/undici-real']!
    expect(real.name).toBe('undici')
    const shim = JSON.parse(
      await readFile(path.join(ROOT, 'vendor', 'undici-lazy', 'package.json'), 'utf8')
    ) as { dependencies: Record<string, string> }
    expect(shim.dependencies['undici-real']).toBe(`npm:undici@${real.version}`)
    const wanted = Object.entries(lock.packages)
      .filter(([where, p]) => where !== '' && p.dependencies?.['undici'] !== undefined)
      .map(([where, p]) => ({ where, range: p.dependencies!['undici']! }))
    expect(wanted.length).toBeGreaterThan(0)
    expect(wanted.filter(w => !semver.satisfies(real.version!, w.range))).toEqual([])
  })
})
