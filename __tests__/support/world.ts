import { mkdtemp, rm } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { generateRelease, type GeneratedRelease, type ReleaseOptions } from './hook-release.js'
import { ORAS_VERSION, buildOrasRelease, type OrasRelease } from './oras-release.js'
import { startRegistry, type Registry, type RegistryAuth } from './registry.js'
import { startServer, type TestServer } from './server.js'

/** A temp dir whose `releases/` a loopback server serves at /releases: where release tests start. */
export interface ReleaseServer {
  dir: string
  /** `<dir>/releases`: generate releases here. */
  releases: string
  server: TestServer
  stop(): Promise<void>
}

export async function startReleaseServer(prefix: string): Promise<ReleaseServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  const releases = path.join(dir, 'releases')
  const server = await startServer()
  server.serveDir('/releases', releases)
  return {
    dir,
    releases,
    server,
    stop: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Everything a push test needs, all on loopback: a hook release and an "oras release" (the
 * real oras, packed like the official asset) on one HTTP server, and a real registry.
 */
export interface World {
  dir: string
  server: TestServer
  release: GeneratedRelease
  oras: OrasRelease
  /** Official-layout base for HOOK_BUNDLE_ORAS_MIRROR: <mirror>/v<V>/<asset>. */
  orasMirror: string
  orasUrl: string
  registry: Registry
  /** Inputs for a push of `variant` to `<registry>/<repository>`. */
  inputs(
    variant: string,
    extra?: Record<string, string>,
    repository?: string
  ): Record<string, string>
  stop(): Promise<void>
}

export async function startWorld(
  opts: { release?: ReleaseOptions; auth?: RegistryAuth } = {}
): Promise<World> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hook-world-'))
  const release = await generateRelease(path.join(dir, 'releases'), opts.release)
  const oras = await buildOrasRelease(path.join(dir, 'oras', `v${ORAS_VERSION}`))
  const server = await startServer()
  server.serveDir('/releases', path.join(dir, 'releases'))
  server.serveDir('/oras', path.join(dir, 'oras'))
  const registry = await startRegistry(opts.auth ? { auth: opts.auth } : {})
  const orasMirror = `${server.url}/oras`
  const orasUrl = `${orasMirror}/v${ORAS_VERSION}/${oras.assetName}`
  return {
    dir,
    server,
    release,
    oras,
    orasMirror,
    orasUrl,
    registry,
    inputs: (variant, extra = {}, repository = 'hook/images') => ({
      'hook-version': release.tag,
      variant,
      'download-url': `${server.url}/releases`,
      'oras-url': orasUrl,
      'oras-checksum': oras.sha256,
      image: `${registry.host}/${repository}`,
      'plain-http': 'true',
      username: opts.auth?.username ?? 'octocat',
      password: opts.auth?.password ?? '',
      ...extra
    }),
    stop: async () => {
      await registry.stop()
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
