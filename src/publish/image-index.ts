import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { Bundle } from '../bundle/bundle.js'
import { ActionError } from '../util/errors.js'
import { bytes, mapLimit, seconds } from '../util/format.js'
import {
  IMAGE_LAYER_MEDIA_TYPE,
  IMAGE_MANIFEST_MEDIA_TYPE,
  IMAGE_PLATFORMS,
  imageConfig,
  manifestWithConfig,
  planLayers,
  platformName,
  type ImagePlatform
} from './image-plan.js'
import { writeLayer } from './layer-tar.js'
import { createIndex, push, pushByDigest, type Registry } from './oras/calls.js'

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
  const started = Date.now()
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
  const annotationFile = path.join(workDir, 'image-annotations.json')
  await writeFile(annotationFile, JSON.stringify({ $manifest: annotations }, null, 2))
  const platforms = await pushPlatforms(registry, dir, {
    files: layers.map(l => ({ name: l.file, mediaType: IMAGE_LAYER_MEDIA_TYPE })),
    diffIds: written.map(w => w.digest),
    annotations,
    annotationFile
  })
  const digest = await createIndex(registry, {
    tags: [],
    manifests: Object.values(platforms),
    annotations
  })
  return { digest, platforms }
}

/**
 * One image manifest per platform, untagged. The first is a full `oras push` of every layer;
 * the others share those layers, already in the target, so each is made from the manifest oras
 * exported (only the config descriptor differs) and costs one config blob and one manifest
 * push: no second pass of oras over every layer's bytes.
 */
async function pushPlatforms(
  registry: Registry,
  dir: string,
  image: {
    files: Array<{ name: string; mediaType: string }>
    diffIds: string[]
    annotations: Record<string, string>
    annotationFile: string
  }
): Promise<Record<string, string>> {
  const platforms: Record<string, string> = {}
  const [first, ...others] = IMAGE_PLATFORMS
  let started = Date.now()
  const config = await writeConfig(dir, first!, image.diffIds, image.annotations)
  const exported = path.join(dir, 'manifest.pushed.json')
  const result = await push(registry, {
    tags: [],
    files: image.files,
    cwd: dir,
    imageConfig: config.file,
    annotationFile: image.annotationFile,
    exportManifest: exported
  })
  platforms[platformName(first!)] = result.digest
  pushed(first!, result.digest, started)
  const manifest = (await readFile(exported).catch(() => Buffer.alloc(0))).toString('utf8')
  if (sha256(manifest) !== result.digest) {
    throw new ActionError(
      `oras pushed ${result.digest} but exported another manifest (--export-manifest); the other platforms cannot be made from it, no tag was moved: run the step again`
    )
  }
  for (const platform of others) {
    started = Date.now()
    const own = await writeConfig(dir, platform, image.diffIds, image.annotations)
    const text = manifestWithConfig(manifest, own)
    if (text === undefined) {
      throw new ActionError(
        `oras pushed ${result.digest} as something other than an image manifest with an image config; no tag was moved: run the step again`
      )
    }
    const file = path.join(dir, `manifest.${platform.os}-${platform.architecture}.json`)
    await writeFile(file, text)
    await pushByDigest(registry, path.join(dir, own.file), own.digest)
    const digest = await pushByDigest(registry, file, sha256(text), IMAGE_MANIFEST_MEDIA_TYPE)
    platforms[platformName(platform)] = digest
    pushed(platform, digest, started)
  }
  return platforms
}

/** Writes a platform's image config beside the layers; its name, digest and size. */
async function writeConfig(
  dir: string,
  platform: ImagePlatform,
  diffIds: string[],
  annotations: Record<string, string>
): Promise<{ file: string; digest: string; size: number }> {
  const text = imageConfig(platform, diffIds, annotations)
  const file = `config.${platform.os}-${platform.architecture}.json`
  await writeFile(path.join(dir, file), text)
  return { file, digest: sha256(text), size: Buffer.byteLength(text) }
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

function pushed(platform: ImagePlatform, digest: string, started: number): void {
  core.info(
    `${platformName(platform)}: image manifest ${digest} pushed untagged in ${seconds(Date.now() - started)}`
  )
}
