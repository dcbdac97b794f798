import * as core from '@actions/core'
import { reference } from '../inputs/image.js'
import { describeError } from '../util/errors.js'
import { mapLimit } from '../util/format.js'
import { cancelled } from '../util/run-temp.js'
import { fetchManifest, type Registry } from './oras/calls.js'
import type { PublishedManifest } from './oras/output.js'
import { tagManifest } from './oras/tag-moves.js'
import { INPUTS_ANNOTATION } from './plan.js'
import type { Published } from './published.js'
import { describeTag, explain, planRepublish } from './republish.js'

/** A run that builds nothing, with what each tag held and why, for the job summary. */
export interface Republished {
  published: Published
  /** One line per planned tag: what it pointed at. */
  findings: string[]
  why: string
}

/**
 * Reads what every planned tag points at before any download. Returns the outcome when nothing
 * needs building (the tags already name a bundle from the same inputs, some perhaps after an
 * `oras tag`); undefined when the bundle must be built and pushed. The check only saves work, so
 * it never blocks a publish: a read that fails (401, 403 DENIED, which GHCR answers for a
 * package that does not exist yet, 5xx after the retries, the network) is one warning, and the
 * bundle is built and pushed as if nothing were published. The push then succeeds or fails on
 * its own, with its own error. A doubt never leads to a skip.
 */
export async function readPublished(
  skipPublished: boolean,
  registry: Registry,
  tags: string[],
  provenance: Record<string, string>
): Promise<Republished | undefined> {
  const ours = provenance[INPUTS_ANNOTATION]!
  if (!skipPublished) {
    core.info('skip-published is false: building and pushing whatever the tags hold')
    return undefined
  }
  let found: Array<PublishedManifest | undefined>
  try {
    found = await readTags(registry, tags)
  } catch (err) {
    if (cancelled()) throw err
    core.warning(
      `could not read what ${reference(registry.image, tags[0]!)} holds (${describeError(err)}); building and pushing as if nothing were published`
    )
    return undefined
  }
  const findings = tags.map((tag, i) => describeTag(reference(registry.image, tag), found[i], ours))
  for (const line of findings) core.info(line)
  const plan = planRepublish(tags, found, ours)
  const why = explain(plan, tags)
  core.info(why)
  if (plan.kind === 'push') return undefined
  const moved = plan.kind === 'retag' ? plan.move : []
  if (moved.length > 0) await tagManifest(registry, plan.digest, moved)
  const published: Published = {
    image: registry.image,
    tags,
    refs: tags.map(t => reference(registry.image, t)),
    digest: plan.digest,
    platforms: found.find(m => m?.digest === plan.digest)?.platforms,
    skipped: true,
    moved
  }
  return { published, findings, why }
}

/**
 * What every tag points at, all at once and without the action's own retries: oras already tries
 * a 5xx or 429 six times, and a read that still fails only means building and pushing, whose
 * calls have their own retries.
 */
function readTags(
  registry: Registry,
  tags: string[]
): Promise<Array<PublishedManifest | undefined>> {
  return mapLimit(tags, 4, t => fetchManifest(registry, t, []))
}
