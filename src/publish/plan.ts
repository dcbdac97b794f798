import { createHash } from 'node:crypto'
import type { BundleEntry } from '../bundle/entry.js'
import { checkTag } from '../inputs/lists.js'

const LINK_ANNOTATION = 'org.tinkerbell.hook.link'
const VARIANT_ANNOTATION = 'org.tinkerbell.hook.variant'
/** What the skip-published check compares, and nothing else. */
export const INPUTS_ANNOTATION = 'org.tinkerbell.hook.inputs'
/**
 * Bumped whenever the code changes what is pushed for the same inputs (file order, media
 * types, annotations, links...), so that a bundle an older layout pushed is never skipped.
 */
export const LAYOUT = '1'
const ALL_SUFFIX = '-all'

/**
 * The tag set of the original publish workflow: `<version>-<variant>`; lts is also the bare
 * version, lts-all also `<version>-all`; `latest` repeats the scheme with the word latest.
 */
export function planTags(
  version: string,
  variant: string,
  latest: boolean,
  extra: string[]
): string[] {
  const prefixes = latest ? [version, 'latest'] : [version]
  const tags: string[] = []
  for (const prefix of prefixes) {
    tags.push(`${prefix}-${variant}`)
    if (variant === 'lts') tags.push(prefix)
    if (variant === `lts${ALL_SUFFIX}`) tags.push(`${prefix}${ALL_SUFFIX}`)
  }
  tags.push(...extra)
  return [...new Set(tags.map(t => checkTag(t, 'computed tag')))]
}

export interface AnnotationFacts {
  hookRepository: string
  version: string
  variant: string
  created: string
  extra: Record<string, string>
  /** planProvenance's annotations: applied last, so no extra annotation can fake them. */
  provenance?: Record<string, string>
}

export function planAnnotations(f: AnnotationFacts): Record<string, string> {
  return {
    'org.opencontainers.image.source': `https://github.com/${f.hookRepository}`,
    'org.opencontainers.image.version': f.version,
    'org.opencontainers.image.description': `Tinkerbell Hook OS boot files, variant ${f.variant}, from ${f.hookRepository} ${f.version}`,
    'org.opencontainers.image.created': f.created,
    [VARIANT_ANNOTATION]: f.variant,
    ...f.extra,
    ...f.provenance
  }
}

/** Everything that shapes the pushed bytes, known before any download. */
export interface ProvenanceFacts {
  format: 'artifact' | 'image'
  variant: string
  hookRepository: string
  release: string
  /** Every archive and ISO the bundle is built from, with the SHA-512 checksum.txt gives. */
  sources: Array<{ asset: string; sha512: string }>
  /** The artifact format's artifactType; the image format has none. */
  artifactType?: string
  /** The `annotations` input. */
  annotations: Record<string, string>
  /** The `created` input as it shapes the bytes: its value, SOURCE_DATE_EPOCH's, or `derived`. */
  created: string
  iso: boolean
  /** Extra files by bundle name, with their sha256. */
  extraFiles: Record<string, string>
  orasVersion: string
}

/**
 * The provenance annotations every pushed bundle carries (decision 1): what it was built from,
 * and `inputs`, the sha256 of a canonical JSON of everything that shapes its bytes. Two runs
 * with the same `inputs` push the same bytes, so the skip-published check compares it alone.
 */
export function planProvenance(f: ProvenanceFacts): Record<string, string> {
  const sources = sortKeys(Object.fromEntries(f.sources.map(s => [s.asset, s.sha512])))
  const shaping = {
    layout: LAYOUT,
    format: f.format,
    variant: f.variant,
    hookRepository: f.hookRepository,
    release: f.release,
    sources,
    ...(f.format === 'artifact' ? { artifactType: f.artifactType ?? '' } : {}),
    annotations: f.annotations,
    created: f.created,
    iso: f.iso,
    extraFiles: f.extraFiles,
    oras: f.orasVersion
  }
  const digest = createHash('sha256').update(canonicalJson(shaping)).digest('hex')
  return {
    [VARIANT_ANNOTATION]: f.variant,
    'org.tinkerbell.hook.format': f.format,
    'org.tinkerbell.hook.layout': LAYOUT,
    'org.tinkerbell.hook.sources': JSON.stringify(sources),
    [INPUTS_ANNOTATION]: `sha256:${digest}`
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** JSON with every object's keys sorted and no spaces: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(sortKeys(value as Record<string, unknown>))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * Layer media types. Kernels and initramfs images are opaque bytes to a registry; the dtbs
 * tarball is gzip and is labelled so, so that nothing mistakes it for an image layer to unpack.
 */
export function mediaTypeFor(name: string): string {
  return name.endsWith('.tar.gz') ? 'application/gzip' : 'application/octet-stream'
}

/** The --annotation-file content: manifest annotations plus the link marker on link layers. */
export function annotationFile(
  manifest: Record<string, string>,
  entries: BundleEntry[]
): Record<string, Record<string, string>> {
  const file: Record<string, Record<string, string>> = { $manifest: manifest }
  for (const e of entries)
    if (e.target !== undefined) file[e.name] = { [LINK_ANNOTATION]: e.target }
  return file
}
