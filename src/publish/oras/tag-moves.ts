import { ActionError } from '../../util/errors.js'
import { orasCall, targetFlags, targetName, type Registry } from './calls.js'
import { firstError, isTransient, registryError } from './errors.js'

/** Points `tags` at the manifest `digest` already in the target (`oras tag`): no blob moves. */
export async function tagManifest(
  r: Registry,
  digest: string,
  tags: string[],
  backoffMs?: number[]
): Promise<void> {
  await moveTags(r, digest, tags, { backoffMs })
}

/** Some tags moved, others did not: which, exactly, for the error and the outputs. */
export class TagsNotMovedError extends ActionError {
  constructor(
    message: string,
    readonly digest: string,
    /** Tags that now name `digest`, moved by this run. */
    readonly moved: string[],
    /** Tags left as they were: the refused one first, then those not tried. */
    readonly notMoved: string[],
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'TagsNotMovedError'
  }
}

/**
 * Points `tags` at `digest`, one after the other in the given order (`oras tag --concurrency
 * 1`: oras stops at the first refusal and prints `Tagged <tag>` for each that moved). On a
 * failure, throws a TagsNotMovedError naming the tags that moved (over every attempt) and
 * those that did not. `pushed`: this run has just pushed `digest` to the target, so a refusal
 * now is not about the right to push.
 */
export async function moveTags(
  r: Registry,
  digest: string,
  tags: string[],
  opts: { pushed?: boolean; backoffMs?: number[] } = {}
): Promise<void> {
  if (tags.length === 0) return
  const tagged = new Set<string>()
  let stderr = ''
  let attempts = 0
  const args = [
    'tag',
    '--concurrency',
    '1',
    ...targetFlags(r),
    `${targetName(r)}@${digest}`,
    ...tags
  ]
  try {
    await orasCall(r, 'tag in', args, {
      backoffMs: opts.backoffMs,
      onAttempt: out => {
        attempts++
        stderr = out.stderr
        for (const m of out.stdout.matchAll(/^Tagged (\S+)\s*$/gm)) tagged.add(m[1]!)
      }
    })
  } catch (err) {
    const moved = tags.filter(t => tagged.has(t))
    const notMoved = tags.filter(t => !tagged.has(t))
    if (!(err instanceof ActionError) || notMoved.length === 0) throw err
    const why = tagFailure(r, { digest, moved, notMoved, stderr, attempts, pushed: opts.pushed })
    throw new TagsNotMovedError(why, digest, moved, notMoved, { cause: err })
  }
}

/**
 * Why `notMoved[0]` did not move, with the lists. A registry that answers with an error code or
 * a 4xx status (not 401, not a transient failure) refused that tag: after this run wrote to the
 * repository with the same credentials (pushed the bundle, moved other tags), that is the tag's
 * own rule (a tag immutability rule, a protected tag), whatever code it comes with (Docker Hub:
 * 403 denied; ECR: 400 tag invalid; Harbor: 412 precondition).
 */
function tagFailure(
  r: Registry,
  f: {
    digest: string
    moved: string[]
    notMoved: string[]
    stderr: string
    attempts: number
    pushed?: boolean
  }
): string {
  const lists = `moved to ${f.digest}: ${f.moved.length > 0 ? f.moved.join(', ') : 'no tag'}; not moved: ${f.notMoved.join(', ')}`
  const refusal =
    r.image.kind === 'registry' &&
    /Error response from registry:|response status code 4\d\d/i.test(f.stderr) &&
    !/\b401\b|unauthorized|credential not found/i.test(f.stderr) &&
    !isTransient(f.stderr)
  if (r.image.kind !== 'registry' || !refusal)
    return `${registryError(r.image, r.username, 'tag in', f.stderr, f.attempts, r.password === '').message}; ${lists}`
  const { registry: where, name } = r.image
  const tag = f.notMoved[0]!
  const detail = firstError(f.stderr)
  const wrote = [
    ...(f.pushed ? [`pushed ${f.digest}`] : []),
    ...(f.moved.length > 0 ? [`moved ${f.moved.join(', ')}`] : [])
  ].join(' and ')
  if (wrote !== '')
    return `${where} refused tag ${tag} in ${name}, though this run's credentials had just ${wrote}: the tag is likely immutable or protected there (a tag immutability or protection rule), not a missing push right; ${lists}; let the tag move or leave it out of tags, then run again; ${detail}`
  if (/\b403\b|denied|forbidden/i.test(f.stderr)) {
    const rights =
      where === 'ghcr.io'
        ? 'the workflow needs `permissions: packages: write` and the package must grant this repository write access'
        : 'the credentials lack push rights on that repository'
    return `${where} denied moving ${tag} in ${name} (403): ${rights}, or the tag is immutable or protected there; ${lists}; ${detail}`
  }
  return `${where} refused tag ${tag} in ${name}: the tag may be immutable or protected there; ${lists}; ${detail}`
}
