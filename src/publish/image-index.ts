import { mkdir, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { Bundle } from '../bundle/bundle.js'
import { ActionError } from '../util/errors.js'
import { bytes, mapLimit, seconds } from '../util/format.js'
import {
  IMAGE_LAYER_MEDIA_TYPE,
  IMAGE_PLATFORMS,
  imageConfig,
  planLayers,
  platformName
} from './image-plan.js'
import { writeLayer } from './layer-tar.js'
import { createIndex, push, type Registry } from './oras/calls.js'

export interface PublishedImage {
  /** The index digest. */
  digest: string
  /** Platform (`linux/amd64`) → its manifest digest, to pin one platform. */
  platforms: Record<string, string>
}

/** Layer tarballs written at once: one per core, the work is hashing and copying bytes. */
const LAYER_CONCURRENCY = 2

/**
 * Pushes the bundle as an OCI image index, untagged: one image manifest per platform, all with
 * the same layers, then the index. Each layer holds the bytes its writer read, which must be
 * the ones checked (the `files` output): a bundle file is a hard link into the tool cache, and
 * whatever writes there after the check would otherwise be pushed. No tag moves here.
 */
export async function publishImage(
  registry: Registry,
  bundle: Bundle,
  annotations: Record<string, string>,
  workDir: string
): Promise<PublishedImage> {
  const dir = path.join(workDir, 'image')
  await mkdir(dir, { recursive: true })
  const layers = planLayers(bundle.entries)
  let started = Date.now()
  const written = await mapLimit(layers, LAYER_CONCURRENCY, layer =>
    writeLayer(layer, path.join(bundle.dir, layer.entry), path.join(dir, layer.file))
  )
  bundle.entries.forEach((entry, i) => {
    const read = written[i]!.content
    if (entry.target === undefined && read !== entry.sha256) {
      throw new ActionError(
        `bundle file ${entry.name} changed after it was checked: read for its layer as sha256:${read}, checked as sha256:${entry.sha256}; nothing was pushed, no tag was moved; the bundle's files are hard links into the tool cache, so something wrote to ${path.join(bundle.dir, entry.name)} or its tool cache entry: run the step again`
      )
    }
  })
  core.info(
    `${layers.length} layers (${bytes(written.reduce((n, w) => n + w.size, 0))}), one per bundle entry, written in ${seconds(Date.now() - started)}, every file's sha256 as checked`
  )
  const diffIds = written.map(w => w.digest)
  const annotationFile = path.join(workDir, 'image-annotations.json')
  await writeFile(annotationFile, JSON.stringify({ $manifest: annotations }, null, 2))

  const platforms: Record<string, string> = {}
  for (const platform of IMAGE_PLATFORMS) {
    started = Date.now()
    const config = `config.${platform.os}-${platform.architecture}.json`
    await writeFile(path.join(dir, config), imageConfig(platform, diffIds, annotations))
    const result = await push(registry, {
      tags: [],
      files: layers.map(l => ({ name: l.file, mediaType: IMAGE_LAYER_MEDIA_TYPE })),
      cwd: dir,
      imageConfig: config,
      annotationFile
    })
    platforms[platformName(platform)] = result.digest
    core.info(
      `${platformName(platform)}: image manifest ${result.digest} pushed untagged in ${seconds(Date.now() - started)}`
    )
  }
  const digest = await createIndex(registry, {
    tags: [],
    manifests: Object.values(platforms),
    annotations
  })
  return { digest, platforms }
}
