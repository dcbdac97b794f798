import { ActionError } from '../../util/errors.js'

export interface PushResult {
  digest: string
  reference: string
  size: number
}

/** What a tag points at, as read back from the target. */
export interface PublishedManifest {
  digest: string
  mediaType: string
  annotations: Record<string, string>
  /** An index's entries that name a platform: `os/architecture` → manifest digest. */
  platforms?: Record<string, string>
}

export function parseFetchOutput(stdout: string, ref: string): PublishedManifest {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    parsed = undefined
  }
  const o = parsed as
    | {
        digest?: unknown
        mediaType?: unknown
        content?: { annotations?: unknown; manifests?: unknown }
      }
    | undefined
  if (
    !o ||
    typeof o.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(o.digest) ||
    typeof o.content !== 'object' ||
    o.content === null
  ) {
    throw new ActionError(
      `oras manifest fetch printed no JSON manifest for ${ref} (got ${JSON.stringify(stdout.trim().slice(0, 120))}); cannot tell what is published, run again`
    )
  }
  const annotations: Record<string, string> = {}
  const raw = o.content.annotations
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') annotations[k] = v
  }
  let platforms: Record<string, string> | undefined
  if (Array.isArray(o.content.manifests)) {
    for (const m of o.content.manifests as Array<{
      digest?: unknown
      platform?: { os?: unknown; architecture?: unknown }
    }>) {
      if (typeof m?.digest !== 'string' || !m.platform) continue
      platforms ??= {}
      platforms[`${String(m.platform.os)}/${String(m.platform.architecture)}`] = m.digest
    }
  }
  return {
    digest: o.digest,
    mediaType: typeof o.mediaType === 'string' ? o.mediaType : '',
    annotations,
    ...(platforms ? { platforms } : {})
  }
}

export function parsePushOutput(stdout: string): PushResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    parsed = undefined
  }
  const o = parsed as { digest?: unknown; reference?: unknown; size?: unknown } | undefined
  if (
    !o ||
    typeof o.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(o.digest) ||
    typeof o.reference !== 'string'
  ) {
    throw new ActionError(
      `oras push printed no JSON result with a digest (got ${JSON.stringify(stdout.trim().slice(0, 120))}); the push state is unknown, check the registry and run again`
    )
  }
  return { digest: o.digest, reference: o.reference, size: typeof o.size === 'number' ? o.size : 0 }
}
