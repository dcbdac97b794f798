import type { PublishedManifest } from './oras/output.js'
import { INPUTS_ANNOTATION } from './plan.js'

/** What the planned tags hold decides what a run does. */
export type Republish =
  /** Every tag already names a bundle built from the same inputs: nothing to do. */
  | { kind: 'skip'; digest: string }
  /** Some tags do: point the others at it (`oras tag`), build nothing. */
  | { kind: 'retag'; digest: string; move: string[] }
  /** No tag does: build and push. */
  | { kind: 'push' }

/**
 * Decides from what each planned tag points at (`undefined`: not found). A bundle counts as
 * published only when its `org.tinkerbell.hook.inputs` equals ours: the same inputs give the
 * same bytes, and anything else (another release, other annotations, a manifest some other
 * tool pushed, an older layout) needs a push.
 */
export function planRepublish(
  tags: string[],
  found: Array<PublishedManifest | undefined>,
  inputs: string
): Republish {
  const same = found.find(m => m?.annotations[INPUTS_ANNOTATION] === inputs)
  if (same === undefined) return { kind: 'push' }
  const move = tags.filter((_, i) => found[i]?.digest !== same.digest)
  return move.length === 0
    ? { kind: 'skip', digest: same.digest }
    : { kind: 'retag', digest: same.digest, move }
}

/** One log line: what a planned tag points at, and whether that is this bundle. */
export function describeTag(
  ref: string,
  found: PublishedManifest | undefined,
  inputs: string
): string {
  if (found === undefined) return `${ref}: not found`
  const theirs = found.annotations[INPUTS_ANNOTATION]
  if (theirs === inputs) return `${ref}: ${found.digest}, built from the same inputs (${inputs})`
  if (theirs === undefined)
    return `${ref}: ${found.digest}, not pushed by this action (no ${INPUTS_ANNOTATION} annotation)`
  return `${ref}: ${found.digest}, built from other inputs (${theirs})`
}

/** Why the run does what it does, in one line for the log and the job summary. */
export function explain(plan: Republish, tags: string[]): string {
  switch (plan.kind) {
    case 'skip':
      return `every planned tag already points at ${plan.digest}, built from the same inputs: nothing downloaded, nothing pushed`
    case 'retag':
      return `${tags.length - plan.move.length} of ${tags.length} tags already point at ${plan.digest}, built from the same inputs: moving ${plan.move.join(', ')} to it, nothing downloaded or pushed`
    case 'push':
      return 'no planned tag points at a bundle built from the same inputs: building and pushing'
  }
}
