// A real image consumer for the tests: Debian's containerd (1.6, with ctr) started as a private
// daemon (root and state in a temp dir, its own sockets, the CRI plugin off), which pulls from
// the loopback registry and unpacks with the native snapshotter. The unpacked tree is read
// through a snapshot view, without mounting anything.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const CONTAINERD_BINARY = process.env.CONTAINERD_BIN ?? '/usr/bin/containerd'
export const CTR_BINARY = process.env.CTR_BIN ?? '/usr/bin/ctr'

export interface CtrResult {
  code: number
  stdout: string
  stderr: string
}

export interface Containerd {
  address: string
  ctr(args: string[]): Promise<CtrResult>
  /** `ctr images pull` of one platform into `namespace`, unpacked with the native snapshotter. */
  pull(namespace: string, ref: string, platform: string): Promise<CtrResult>
  /** Digests of every blob containerd holds in `namespace` (what it fetched). */
  content(namespace: string): Promise<string[]>
  /** The directory holding the unpacked tree of the image whose config lists `diffIds`. */
  unpacked(namespace: string, diffIds: string[]): Promise<string>
  stop(): Promise<void>
}

/** The snapshot key of an unpacked image: the chain ID of its layers (image-spec config.md). */
export function chainId(diffIds: string[]): string {
  let chain = diffIds[0]!
  for (const diff of diffIds.slice(1))
    chain = 'sha256:' + createHash('sha256').update(`${chain} ${diff}`).digest('hex')
  return chain
}

// ctr draws progress with ANSI codes even without a terminal.
const stripAnsi = (s: string): string =>
  s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n') // eslint-disable-line no-control-regex

export async function startContainerd(): Promise<Containerd> {
  if (process.getuid?.() !== 0)
    throw new Error('the containerd consumer tests run as root (containerd needs it)')
  // Unix socket paths are limited to 108 bytes: keep the directory short.
  const dir = await mkdtemp(path.join(tmpdir(), 'ctrd-'))
  const address = path.join(dir, 'c.sock')
  const config = path.join(dir, 'config.toml')
  await mkdir(path.join(dir, 'opt'))
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      ''
    ].join('\n')
  )
  let log = ''
  const daemon: ChildProcess = spawn(
    CONTAINERD_BINARY,
    ['--config', config, '--address', address],
    {
      stdio: ['ignore', 'ignore', 'pipe']
    }
  )
  daemon.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-8000)
  })
  let exited = false
  daemon.on('exit', () => (exited = true))

  const ctr = (args: string[]): Promise<CtrResult> =>
    new Promise(resolve => {
      execFile(
        CTR_BINARY,
        ['--address', address, ...args],
        { maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
          resolve({ code, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr) })
        }
      )
    })

  const started = Date.now()
  for (;;) {
    if (exited) throw new Error(`containerd exited at start:\n${log}`)
    if ((await ctr(['version'])).code === 0) break
    if (Date.now() - started > 15000) {
      daemon.kill('SIGKILL')
      throw new Error(`containerd did not answer within 15 s:\n${log}`)
    }
    await new Promise(r => setTimeout(r, 50))
  }

  return {
    address,
    ctr,
    pull: (namespace, ref, platform) =>
      ctr([
        '-n',
        namespace,
        'images',
        'pull',
        '--plain-http',
        '--snapshotter',
        'native',
        '--platform',
        platform,
        ref
      ]),
    content: async namespace => {
      const r = await ctr(['-n', namespace, 'content', 'ls', '-q'])
      if (r.code !== 0) throw new Error(`ctr content ls failed: ${r.stderr}`)
      return r.stdout.split('\n').filter(l => l.startsWith('sha256:'))
    },
    unpacked: async (namespace, diffIds) => {
      const key = `view-${Date.now()}-${Math.random().toString(36).slice(2)}`
      const r = await ctr([
        '-n',
        namespace,
        'snapshots',
        '--snapshotter',
        'native',
        'view',
        '--mounts',
        key,
        chainId(diffIds)
      ])
      if (r.code !== 0) throw new Error(`no unpacked snapshot ${chainId(diffIds)}: ${r.stderr}`)
      const mounts = JSON.parse(r.stdout) as Array<{ Source?: string; source?: string }>
      const source = mounts[0]?.Source ?? mounts[0]?.source
      if (!source) throw new Error(`ctr snapshots view printed no mount source: ${r.stdout}`)
      return source
    },
    stop: async () => {
      if (!exited) {
        daemon.kill('SIGTERM')
        await Promise.race([
          new Promise(r => daemon.once('exit', r)),
          new Promise(r => setTimeout(r, 5000).unref())
        ])
        if (!exited) daemon.kill('SIGKILL')
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
