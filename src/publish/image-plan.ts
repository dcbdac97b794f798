import { LAYER_FILE_SUFFIX, type BundleEntry } from '../bundle/entry.js'

/**
 * The image format, planned without touching the disk: which layer each bundle entry becomes,
 * and each platform's image config. Everything here depends only on the bundle's names, link
 * targets and sizes and on the given annotations, so the same inputs give the same bytes.
 */

export const IMAGE_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json'
export const IMAGE_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar'

export interface ImagePlatform {
  os: 'linux'
  architecture: 'amd64' | 'arm64'
}

/**
 * Every platform gets the same layers: the boot files are data served over HTTP, so an x86
 * boot server serves arm machines too. Only the config's architecture differs, so that a
 * node of either architecture can pull and mount the image.
 */
export const IMAGE_PLATFORMS: readonly ImagePlatform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' }
]

export function platformName(p: ImagePlatform): string {
  return `${p.os}/${p.architecture}`
}

/**
 * One tar entry, with every header field that could vary between runs fixed: owner root
 * without names, a fixed mode and the epoch as mtime. The same file therefore gives the same
 * layer digest in every variant, release and tag that ships it, and a registry stores it once.
 */
export interface LayerHeader {
  name: string
  type: 'file' | 'symlink'
  mode: number
  size: number
  linkname?: string
  mtime: Date
  uid: 0
  gid: 0
  uname: ''
  gname: ''
}

export interface LayerSpec {
  /** The bundle entry the layer holds, at the image root. */
  entry: string
  /** File name of the layer tarball, as oras is given it (its layer title). */
  file: string
  header: LayerHeader
}

const EPOCH = new Date(0)
const FILE_MODE = 0o644
const LINK_MODE = 0o777

/** One layer per bundle entry, in the bundle's order; a standard name is a relative symlink. */
export function planLayers(entries: BundleEntry[]): LayerSpec[] {
  return entries.map(e => ({
    entry: e.name,
    file: `${e.name}${LAYER_FILE_SUFFIX}`,
    header:
      e.target === undefined
        ? { ...fixed(e.name), type: 'file', mode: FILE_MODE, size: e.size }
        : { ...fixed(e.name), type: 'symlink', mode: LINK_MODE, size: 0, linkname: e.target }
  }))
}

function fixed(
  name: string
): Pick<LayerHeader, 'name' | 'mtime' | 'uid' | 'gid' | 'uname' | 'gname'> {
  return { name, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' }
}

/**
 * The image config (image-spec config.md) of one platform: `rootfs.diff_ids` are the layer
 * digests (the layers are uncompressed), `created` the bundle's created time, and the labels
 * mirror the manifest annotations so that `ctr`/`docker inspect` show where the image is from.
 * Keys in a fixed order and labels sorted: the bytes, and so the digest, are reproducible.
 */
export function imageConfig(
  platform: ImagePlatform,
  diffIds: string[],
  annotations: Record<string, string>
): string {
  const labels: Record<string, string> = {}
  for (const key of Object.keys(annotations).sort()) labels[key] = annotations[key]!
  return JSON.stringify({
    created: annotations['org.opencontainers.image.created'],
    architecture: platform.architecture,
    os: platform.os,
    config: { Labels: labels },
    rootfs: { type: 'layers', diff_ids: diffIds }
  })
}

export const IMAGE_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json'

/**
 * Another platform's manifest, made from the first one's as oras pushed it: the same layers
 * and annotations, only the config descriptor replaced. Its layers are in the target already,
 * so pushing it costs one small blob and one manifest, not a second pass over every layer.
 * Undefined when `first` is not the image manifest this action's push makes. The bytes are
 * JSON.stringify's of the parsed manifest, so the same first manifest always gives the same
 * second one (the index digest stays reproducible); they match oras's own encoding except
 * where Go escapes <, > and & inside annotation values.
 */
export function manifestWithConfig(
  first: string,
  config: { digest: string; size: number }
): string | undefined {
  let manifest: Record<string, unknown>
  try {
    manifest = JSON.parse(first) as Record<string, unknown>
  } catch {
    return undefined
  }
  const old = manifest.config as { mediaType?: unknown } | undefined
  if (
    manifest.mediaType !== IMAGE_MANIFEST_MEDIA_TYPE ||
    old?.mediaType !== IMAGE_CONFIG_MEDIA_TYPE
  )
    return undefined
  manifest.config = { mediaType: IMAGE_CONFIG_MEDIA_TYPE, digest: config.digest, size: config.size }
  return JSON.stringify(manifest)
}
