import { readFile, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import * as path from 'node:path'
import type { Bundle } from '../bundle/bundle.js'
import { ActionError } from '../util/errors.js'
import { push, type Registry } from './oras/calls.js'
import { annotationFile, mediaTypeFor } from './plan.js'

/**
 * Pushes the bundle as one OCI artifact manifest, untagged: a layer per bundle entry (links
 * followed by oras, marked by an annotation). The manifest oras pushed is then compared with
 * what was checked (the `files` output): oras hashes each file as it reads it, and the registry
 * takes a blob only with the digest it was announced with, so a layer digest that is not the
 * checked sha256 means the bytes changed after the check (a bundle file is a hard link into the
 * tool cache). No tag moves here.
 */
export async function publishArtifact(
  registry: Registry,
  bundle: Bundle,
  artifactType: string,
  annotations: Record<string, string>,
  workDir: string
): Promise<{ digest: string; platforms?: undefined }> {
  const file = path.join(workDir, 'annotations.json')
  await writeFile(file, JSON.stringify(annotationFile(annotations, bundle.entries), null, 2))
  const exported = path.join(workDir, 'pushed-manifest.json')
  const { digest } = await push(registry, {
    tags: [],
    files: bundle.entries.map(e => ({ name: e.name, mediaType: mediaTypeFor(e.name) })),
    cwd: bundle.dir,
    artifactType,
    annotationFile: file,
    exportManifest: exported
  })
  checkPushedLayers(bundle, digest, await readFile(exported).catch(() => Buffer.alloc(0)))
  return { digest }
}

const TITLE = 'org.opencontainers.image.title'

/** The manifest `digest` holds every bundle entry with the size and sha256 that were checked. */
export function checkPushedLayers(bundle: Bundle, digest: string, manifest: Buffer): void {
  const unknown = (why: string): ActionError =>
    new ActionError(
      `oras pushed ${digest} but ${why}; the pushed bytes cannot be compared with the checked ones, no tag was moved: run the step again`
    )
  if (`sha256:${createHash('sha256').update(manifest).digest('hex')}` !== digest)
    throw unknown('exported another manifest (--export-manifest)')
  let layers: Array<{ digest?: unknown; size?: unknown; annotations?: Record<string, unknown> }>
  try {
    layers = (JSON.parse(manifest.toString('utf8')) as { layers?: typeof layers }).layers ?? []
  } catch {
    throw unknown('its manifest is not JSON')
  }
  const byTitle = new Map(layers.map(l => [l.annotations?.[TITLE], l]))
  if (layers.length !== bundle.entries.length || byTitle.size !== layers.length)
    throw unknown(`its manifest has ${layers.length} layers for ${bundle.entries.length} entries`)
  for (const entry of bundle.entries) {
    const layer = byTitle.get(entry.name)
    if (!layer) throw unknown(`its manifest has no layer ${entry.name}`)
    const checked = `sha256:${entry.sha256}`
    if (layer.digest !== checked || layer.size !== entry.size) {
      const name = entry.target ?? entry.name
      throw new ActionError(
        `bundle file ${name} changed after it was checked: pushed as ${String(layer.digest)} (${String(layer.size)} bytes), checked as ${checked} (${entry.size} bytes); no tag was moved (${digest} stays untagged); the bundle's files are hard links into the tool cache, so something wrote to ${path.join(bundle.dir, name)} or its tool cache entry: run the step again`
      )
    }
  }
}
