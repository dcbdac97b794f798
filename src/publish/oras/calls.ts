import { existsSync } from 'node:fs'
import * as path from 'node:path'
import * as core from '@actions/core'
import * as exec from '@actions/exec'
import { ActionError } from '../../util/errors.js'
import { reference, type ImageTarget } from '../../inputs/image.js'
import { firstError, isTransient, registryError, type Verb } from './errors.js'
import {
  parseFetchOutput,
  parsePushOutput,
  type PublishedManifest,
  type PushResult
} from './output.js'
import { runOras, type OrasOutput } from './process.js'

export async function orasVersion(binary: string): Promise<string> {
  const out = await exec.getExecOutput(binary, ['version'], {
    silent: true,
    ignoreReturnCode: true
  })
  const m = /^Version:\s*(\S+)/m.exec(out.stdout)
  if (out.exitCode !== 0 || !m) {
    throw new ActionError(
      `oras at ${binary} does not run (exit ${out.exitCode}): ${firstError(out.stderr || out.stdout)}`
    )
  }
  return m[1]!
}

export interface Registry {
  binary: string
  /**
   * A path in the run's private directory that is never written: oras reads no
   * ~/.docker/config.json through it, and with the credentials on stdin stores nothing there.
   */
  config: string
  image: ImageTarget
  plainHttp: boolean
  username: string
  /** Handed to oras on stdin by every call that talks to the registry; empty: anonymous. */
  password: string
}

/** Where a command finds its target, and the credentials that go with it (never `oras login`). */
export function targetFlags(r: Registry): string[] {
  if (r.image.kind === 'oci-layout') return ['--oci-layout']
  const credentials =
    r.password === '' ? [] : [...(r.username !== '' ? ['-u', r.username] : []), '--password-stdin']
  return ['--registry-config', r.config, ...credentials, ...(r.plainHttp ? ['--plain-http'] : [])]
}

/** The repository part of a reference: the registry repository, or the layout directory. */
export function targetName(r: Registry): string {
  return r.image.kind === 'registry' ? r.image.name : path.resolve(r.image.dir)
}

/**
 * One oras command against the target; a transient registry failure is tried again after the
 * delays in `backoffMs`, a refusal is not. Returns the output of the successful attempt, or
 * `undefined` when `absent` recognises the failure as a normal answer.
 */
export async function orasCall(
  r: Registry,
  verb: Verb,
  args: string[],
  opts: {
    cwd?: string
    backoffMs?: number[]
    absent?: (stderr: string) => boolean
    /** Sees every attempt's output, failed ones included. */
    onAttempt?: (out: OrasOutput) => void
  } = {}
): Promise<OrasOutput | undefined> {
  const backoff = opts.backoffMs ?? [2000, 5000]
  const stdin = r.image.kind === 'registry' && r.password !== '' ? r.password : undefined
  for (let attempt = 1; ; attempt++) {
    const out = await runOras(r.binary, args, { cwd: opts.cwd, stdin })
    opts.onAttempt?.(out)
    if (out.exitCode !== 0 && opts.absent?.(out.stderr)) return undefined
    for (const line of out.stderr.split('\n')) if (line.trim() !== '') core.info(`oras: ${line}`)
    if (out.exitCode === 0) return out
    const delay = backoff[attempt - 1]
    if (delay === undefined || !isTransient(out.stderr)) {
      throw registryError(r.image, r.username, verb, out.stderr, attempt, r.password === '')
    }
    const command = args.slice(0, args[0] === 'manifest' || args[0] === 'blob' ? 2 : 1).join(' ')
    core.warning(
      `oras ${command} failed (${firstError(out.stderr)}); attempt ${attempt + 1} in ${delay / 1000} s`
    )
    await new Promise(resolve => setTimeout(resolve, delay))
  }
}

export interface PushRequest {
  /** Tags of the target, all pointing at one manifest; none: pushed by digest only. */
  tags: string[]
  files: Array<{ name: string; mediaType: string }>
  cwd: string
  /** The manifest is an image-spec 1.1 artifact of this type, with the empty config... */
  artifactType?: string
  /** ...or an image-spec 1.0 image with this image config file (no artifactType). */
  imageConfig?: string
  annotationFile: string
  /** Where oras writes the manifest it pushed (`--export-manifest`). */
  exportManifest?: string
  /** Delays between attempts; their count bounds the retries. */
  backoffMs?: number[]
}

const IMAGE_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json'

/** The target with every tag at once, or with none (a push by digest, no tag moves). */
function targetRef(r: Registry, tags: string[]): string {
  return tags.length === 0 ? targetName(r) : `${targetName(r)}:${tags.join(',')}`
}

/** One `oras push` for every tag. */
export async function push(r: Registry, req: PushRequest): Promise<PushResult> {
  // With --config and without --artifact-type, oras packs an image-spec 1.0 manifest.
  const kind =
    req.imageConfig !== undefined
      ? ['--config', `${req.imageConfig}:${IMAGE_CONFIG_MEDIA_TYPE}`]
      : ['--artifact-type', req.artifactType ?? '']
  const args = [
    'push',
    '--format',
    'json',
    ...targetFlags(r),
    ...kind,
    '--annotation-file',
    req.annotationFile,
    ...(req.exportManifest === undefined ? [] : ['--export-manifest', req.exportManifest]),
    targetRef(r, req.tags),
    ...req.files.map(f => `${f.name}:${f.mediaType}`)
  ]
  const out = await orasCall(r, 'push to', args, { cwd: req.cwd, backoffMs: req.backoffMs })
  return parsePushOutput(out!.stdout)
}

/**
 * Pushes one file by the digest computed here, untagged: `oras blob push` for a blob,
 * `oras manifest push` for a manifest of `manifestMediaType`. oras checks the bytes against the
 * digest as it sends them, so what lands is what was hashed here; returns that digest.
 */
export async function pushByDigest(
  r: Registry,
  file: string,
  digest: string,
  manifestMediaType?: string
): Promise<string> {
  const command =
    manifestMediaType === undefined
      ? ['blob', 'push']
      : ['manifest', 'push', '--media-type', manifestMediaType]
  const args = [...command, '--descriptor', ...targetFlags(r), `${targetName(r)}@${digest}`, file]
  const out = await orasCall(r, 'push to', args)
  const pushed = parseDescriptor(out!.stdout)
  if (pushed !== digest) {
    throw new ActionError(
      `oras ${command.slice(0, 2).join(' ')} of ${path.basename(file)} printed ${pushed ?? `no descriptor (got ${JSON.stringify(out!.stdout.trim().slice(0, 120))})`} for ${digest}; the push state is unknown, check the registry and run again`
    )
  }
  return digest
}

function parseDescriptor(stdout: string): string | undefined {
  try {
    const digest = (JSON.parse(stdout) as { digest?: unknown }).digest
    return typeof digest === 'string' ? digest : undefined
  } catch {
    return undefined
  }
}

export interface IndexRequest {
  /** Every tag the index gets, at once. */
  tags: string[]
  /** Digests of manifests already in the repository; each entry's platform comes from its config. */
  manifests: string[]
  annotations: Record<string, string>
  backoffMs?: number[]
}

/** `oras manifest index create`: the index is pushed and tagged with every tag in one call. */
export async function createIndex(r: Registry, req: IndexRequest): Promise<string> {
  const args = [
    'manifest',
    'index',
    'create',
    ...targetFlags(r),
    targetRef(r, req.tags),
    ...req.manifests,
    ...Object.entries(req.annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`])
  ]
  const out = await orasCall(r, 'push to', args, { backoffMs: req.backoffMs })
  // The command has no JSON output: its text ends with "Digest: <digest>".
  const m = /^Digest: (sha256:[0-9a-f]{64})\s*$/m.exec(out!.stdout)
  if (!m) {
    throw new ActionError(
      `oras manifest index create printed no digest (got ${JSON.stringify(out!.stdout.trim().slice(-120))}); the push state is unknown, check the registry and run again`
    )
  }
  return m[1]!
}

/**
 * Reads what `tag` points at (`oras manifest fetch --format json`); `undefined` only when
 * oras says the tag is not found. Any other failure (401, 5xx, the network) is an error after
 * the usual retries: a doubt must never read as "absent".
 */
export async function fetchManifest(
  r: Registry,
  tag: string,
  backoffMs?: number[]
): Promise<PublishedManifest | undefined> {
  if (r.image.kind === 'oci-layout' && !existsSync(path.join(targetName(r), 'index.json'))) {
    return undefined // a layout not made yet holds no tag
  }
  const args = [
    'manifest',
    'fetch',
    '--format',
    'json',
    ...targetFlags(r),
    `${targetName(r)}:${tag}`
  ]
  // A registry says `…: <repo>:<tag>: not found`; an OCI layout only `failed to fetch the
  // content of "<dir>:<tag>": not found` (oras-go's content/oci falls back to resolving a blob,
  // whose not-found names nothing).
  const ref = `${targetName(r)}:${tag}`
  const notFound = new RegExp(
    `(?:${escapeRegExp(tag)}|${escapeRegExp(JSON.stringify(ref))}): not found\\s*$`,
    'm'
  )
  const out = await orasCall(r, 'read', args, { backoffMs, absent: e => notFound.test(e) })
  if (out === undefined) return undefined
  return parseFetchOutput(out.stdout, reference(r.image, tag))
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
