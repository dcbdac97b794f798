import { writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { Bundle } from './bundle.js'
import { push, type Registry } from './oras.js'
import { annotationFile, mediaTypeFor } from './publish.js'

/**
 * Pushes the bundle as one OCI artifact manifest, untagged: a layer per bundle entry (links
 * followed by oras, marked by an annotation). No tag moves here: main.ts moves them all at the
 * end, one after the other.
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
  const { digest } = await push(registry, {
    tags: [],
    files: bundle.entries.map(e => ({ name: e.name, mediaType: mediaTypeFor(e.name) })),
    cwd: bundle.dir,
    artifactType,
    annotationFile: file
  })
  return { digest }
}
