// Builds an "oras release" (the asset tarball and the checksums file) around the oras test
// double, laid out like the real release assets.
import { createHash } from 'node:crypto'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

export const DOUBLE_PATH = fileURLToPath(new URL('./oras.cjs', import.meta.url))
const DOUBLE_DIR = path.dirname(DOUBLE_PATH)

/**
 * The double as the one `oras` file a release holds: its modules (oras.cjs, lib/, commands/)
 * wrapped in a small CommonJS loader, so the action installs and runs a single executable, as
 * with the real release.
 */
export async function bundleDouble(): Promise<string> {
  const names = ['oras.cjs']
  for (const dir of ['lib', 'commands']) {
    for (const f of (await readdir(path.join(DOUBLE_DIR, dir))).sort())
      if (f.endsWith('.cjs')) names.push(`${dir}/${f}`)
  }
  const modules: string[] = []
  for (const name of names) {
    const source = (await readFile(path.join(DOUBLE_DIR, name), 'utf8')).replace(/^#!.*\n/, '')
    modules.push(`${JSON.stringify(name)}: function (module, exports, require) {\n${source}}`)
  }
  return `#!/usr/bin/env node
'use strict'
// oras 1.3.2 (linux/amd64 build of the CLI, re-created on node builtins).
const modules = {
${modules.join(',\n')}
}
const loaded = {}
function load(name) {
  if (loaded[name]) return loaded[name].exports
  const module = { exports: {} }
  loaded[name] = module
  const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.'
  const local = spec => {
    // Node builtins only. Inside a "type": "module" package this extensionless file runs as
    // an ES module, where there is no require.
    if (!spec.startsWith('.'))
      return typeof require === 'function' ? require(spec) : process.getBuiltinModule(spec)
    const parts = []
    for (const p of (dir + '/' + spec).split('/')) {
      if (p === '..') parts.pop()
      else if (p !== '.' && p !== '') parts.push(p)
    }
    return load(parts.join('/'))
  }
  modules[name](module, module.exports, local)
  return module.exports
}
load('oras.cjs')
`
}

export interface BuildOrasReleaseOptions {
  version?: string
  os?: string
  arch?: string
  /** Leave the oras binary out of the tarball. */
  omitBinary?: boolean
  /** 'exit1': oras always fails; 'badjson': `push --format json` prints invalid JSON. */
  brokenBinary?: 'exit1' | 'badjson'
}

export interface OrasRelease {
  assetName: string
  archivePath: string
  sha256: string
  checksumsName: string
  checksumsPath: string
}

export function orasOs(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform
}

export function orasArch(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'armv7',
    s390x: 's390x',
    ppc64: 'ppc64le',
    riscv64: 'riscv64',
    loong64: 'loong64'
  }
  return map[arch] ?? arch
}

const LICENSE = `
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   Copyright The ORAS Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
`.trimStart()

const EXIT1_BINARY = `#!/usr/bin/env node
'use strict'
process.stderr.write('Error: something failed\\n')
process.exit(1)
`

// Works like the double for everything but `push --format json`, which prints broken JSON.
function badJsonBinary(doubleSource: string): string {
  const body = doubleSource.replace(/^#!.*\n/, '')
  const guard = `#!/usr/bin/env node
'use strict'
{
  const a = process.argv.slice(2)
  const i = a.indexOf('--format')
  if (a[0] === 'push' && (a.includes('--format=json') || (i >= 0 && a[i + 1] === 'json'))) {
    process.stdout.write('{"reference": "broken", "digest": \\n')
    process.exit(0)
  }
}
`
  return guard + body
}

function tarGz(entries: { name: string; mode: number; content: Buffer }[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack()
    const chunks: Buffer[] = []
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer)
    })
    pack.on('end', () => resolve(gzipSync(Buffer.concat(chunks))))
    pack.on('error', reject)
    const mtime = new Date('2025-11-20T10:00:00Z')
    for (const e of entries) {
      pack.entry(
        { name: e.name, mode: e.mode, size: e.content.length, mtime, uid: 1001, gid: 127 },
        e.content
      )
    }
    pack.finalize()
  })
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

export async function buildOrasRelease(
  outDir: string,
  opts: BuildOrasReleaseOptions = {}
): Promise<OrasRelease> {
  const version = opts.version ?? '1.3.2'
  const os = opts.os ?? orasOs()
  const arch = opts.arch ?? orasArch()
  const assetName = `oras_${version}_${os}_${arch}.tar.gz`
  const checksumsName = `oras_${version}_checksums.txt`

  // The binary reports the release's own version, as a real build of that release would.
  const doubleSource = (await bundleDouble()).replace(
    "const VERSION = '1.3.2'",
    `const VERSION = '${version}'`
  )
  let binary = doubleSource
  if (opts.brokenBinary === 'exit1') binary = EXIT1_BINARY
  else if (opts.brokenBinary === 'badjson') binary = badJsonBinary(doubleSource)

  const entries = [{ name: 'LICENSE', mode: 0o644, content: Buffer.from(LICENSE) }]
  if (!opts.omitBinary) entries.push({ name: 'oras', mode: 0o755, content: Buffer.from(binary) })
  const archive = await tarGz(entries)

  await mkdir(outDir, { recursive: true })
  const archivePath = path.join(outDir, assetName)
  await writeFile(archivePath, archive)
  const digest = sha256(archive)

  // The real checksums file lists every asset of the release; the others are placeholders here.
  const lines = new Map<string, string>([[assetName, digest]])
  for (const other of [
    `oras_${version}_darwin_amd64.tar.gz`,
    `oras_${version}_darwin_arm64.tar.gz`,
    `oras_${version}_linux_amd64.tar.gz`,
    `oras_${version}_linux_arm64.tar.gz`,
    `oras_${version}_linux_armv7.tar.gz`,
    `oras_${version}_windows_amd64.zip`
  ]) {
    if (!lines.has(other)) lines.set(other, sha256(`placeholder ${other}`))
  }
  const checksums = [...lines.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}`)
    .join('\n')
  const checksumsPath = path.join(outDir, checksumsName)
  await writeFile(checksumsPath, checksums + '\n')

  return { assetName, archivePath, sha256: digest, checksumsName, checksumsPath }
}
