import { afterAll, afterEach, beforeAll } from '@jest/globals'
import { generateRelease, type GeneratedRelease, type ReleaseOptions } from './hook-release.js'
import type { TestServer } from './server.js'
import { startReleaseServer, type ReleaseServer } from './world.js'

/**
 * Where the release-side suites start: a temp dir, a loopback server serving `<dir>/releases`
 * at /releases, one generated hook release, faults that last one test. Call at the top of a
 * suite: it registers its own beforeAll, afterEach and afterAll.
 */
export interface ReleaseGround {
  readonly dir: string
  /** `<dir>/releases`: generate more releases here. */
  readonly releases: string
  readonly server: TestServer
  readonly release: GeneratedRelease
  /** A fault on the release server, removed after the test or by calling what it returns. */
  fault(rule: Parameters<TestServer['fault']>[0]): () => void
  /** Inputs of a `push: false` run of `variant` from the generated release. */
  inputs(variant: string, extra?: Record<string, string>): Record<string, string>
}

export function useReleaseGround(prefix: string, opts: ReleaseOptions = {}): ReleaseGround {
  let ground: ReleaseServer | undefined
  let release: GeneratedRelease | undefined
  const removers: Array<() => void> = []
  beforeAll(async () => {
    ground = await startReleaseServer(prefix)
    release = await generateRelease(ground.releases, opts)
  })
  afterEach(() => {
    for (const remove of removers.splice(0)) remove()
  })
  afterAll(async () => {
    await ground?.stop()
  })
  const started = (): { ground: ReleaseServer; release: GeneratedRelease } => {
    if (!ground || !release) throw new Error('useReleaseGround: used before its beforeAll ran')
    return { ground, release }
  }
  return {
    get dir() {
      return started().ground.dir
    },
    get releases() {
      return started().ground.releases
    },
    get server() {
      return started().ground.server
    },
    get release() {
      return started().release
    },
    fault: rule => {
      let remove: (() => void) | undefined = started().ground.server.fault(rule)
      const once = (): void => {
        remove?.()
        remove = undefined
      }
      removers.push(once)
      return once
    },
    inputs: (variant, extra = {}) => ({
      'hook-version': started().release.tag,
      variant,
      'download-url': `${started().ground.server.url}/releases`,
      push: 'false',
      ...extra
    })
  }
}
