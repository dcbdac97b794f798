import * as core from '@actions/core'
import type { Bundle } from '../bundle/bundle.js'
import { bytes } from '../util/format.js'
import { reference, type ImageTarget } from '../inputs/image.js'
import { variantIsos } from '../release/isos.js'
import type { Release } from '../release/release.js'
import type { VariantDefinition } from '../release/catalog.js'
import type { Published } from '../publish/published.js'

export function releaseOutputs(release: Release): void {
  core.setOutput('version', release.tag)
  core.setOutput('variants', JSON.stringify(release.variants.map(v => v.name)))
}

/** The archives a variant is built from, by asset name. */
function assets(v: VariantDefinition): string {
  return v.archives.map(id => `hook_${id}.tar.gz`).join(', ')
}

/** The ISO images `iso: true` would add to a variant, by asset name. */
function isos(release: Release, v: VariantDefinition): string {
  return variantIsos(v, release.isos)
    .map(iso => iso.asset)
    .join(', ')
}

export function logVariants(release: Release): void {
  core.info(`${release.repository} ${release.tag} offers ${release.variants.length} variants:`)
  for (const v of release.variants) {
    const images = isos(release, v)
    core.info(`  ${v.name}: ${assets(v)}${images === '' ? '' : `; with iso: true also ${images}`}`)
  }
  const having = release.variants.filter(v => isos(release, v) !== '').map(v => v.name)
  core.info(
    having.length === 0
      ? 'no variant has ISO images in this release'
      : `variants with ISO images (iso: true): ${having.join(', ')}`
  )
}

export function bundleOutputs(bundle: Bundle): void {
  core.setOutput('bundle-dir', bundle.dir)
  core.setOutput('files', JSON.stringify(bundle.entries))
}

export function pushOutputs(p: Published | undefined): void {
  core.setOutput('pushed', p && !p.skipped ? 'true' : 'false')
  if (!p) return
  core.setOutput('skipped', p.skipped ? 'true' : 'false')
  core.setOutput('image', p.image.name)
  core.setOutput('tags', JSON.stringify(p.tags))
  core.setOutput('refs', JSON.stringify(p.refs))
  core.setOutput('digest', p.digest)
  if (p.platforms) core.setOutput('platforms', JSON.stringify(p.platforms))
  core.setOutput('moved-tags', JSON.stringify(p.moved))
}

/**
 * Outputs of a run that failed with some tags moved and others not, set before it fails:
 * `digest`, and `tags`/`refs` for the planned tags that now name it. `pushed`: the bundle was
 * pushed in this run (`platforms` too for the image format); otherwise the tags were being moved
 * to a published bundle and `moved-tags` names those that moved.
 */
export function partialOutputs(
  image: ImageTarget,
  planned: string[],
  failure: { digest: string; moved: string[]; notMoved: string[] },
  pushed: boolean,
  platforms?: Record<string, string>
): void {
  const naming = pushed ? failure.moved : planned.filter(t => !failure.notMoved.includes(t))
  core.setOutput('pushed', pushed ? 'true' : 'false')
  core.setOutput('skipped', 'false')
  core.setOutput('image', image.name)
  core.setOutput('tags', JSON.stringify(naming))
  core.setOutput('refs', JSON.stringify(naming.map(t => reference(image, t))))
  core.setOutput('digest', failure.digest)
  if (platforms) core.setOutput('platforms', JSON.stringify(platforms))
  core.setOutput('moved-tags', JSON.stringify(pushed ? [] : failure.moved))
}

function pullCommand(p: Published): string {
  return p.image.kind === 'registry'
    ? `oras pull ${p.image.name}@${p.digest}`
    : `oras pull --oci-layout ${p.image.dir}@${p.digest}`
}

/** A run that built nothing: what each tag held, why, and which tags moved. */
export async function summarizeRepublished(
  release: Release,
  variant: string,
  published: Published,
  findings: string[],
  why: string
): Promise<void> {
  await writeSummary(s => {
    s.addHeading(`Hook ${release.tag} ${variant}: already published`, 2)
      .addRaw(`<code>${published.image.name}</code>: ${why}.`, true)
      .addList(findings.map(f => `<code>${f}</code>`))
    if (published.moved.length > 0)
      s.addRaw('Moved with <code>oras tag</code> (no blob uploaded):', true).addList(
        published.moved.map(t => `<code>${t}</code>`)
      )
    s.addCodeBlock(pullCommand(published), 'sh')
  })
}

/** The job summary is optional outside a runner (local runs): skip it when there is no file. */
async function writeSummary(build: (s: typeof core.summary) => void): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return
  build(core.summary)
  await core.summary.write()
}

export async function summarizeList(release: Release): Promise<void> {
  await writeSummary(s =>
    s.addHeading(`Hook ${release.tag}: ${release.variants.length} variants`, 2).addTable([
      [
        { data: 'variant', header: true },
        { data: 'archives', header: true },
        { data: 'ISO images (iso: true)', header: true }
      ],
      ...release.variants.map(v => [v.name, assets(v), isos(release, v) || 'none'])
    ])
  )
}

export async function summarizeBundle(
  release: Release,
  variant: string,
  bundle: Bundle,
  published: Published | undefined
): Promise<void> {
  await writeSummary(s => {
    s.addHeading(`Hook ${release.tag} ${variant}`, 2)
      .addRaw(`From ${release.repository} ${release.tag}, bundle in \`${bundle.dir}\`.`, true)
      .addTable([
        [
          { data: 'file', header: true },
          { data: 'size', header: true },
          { data: 'sha256', header: true },
          { data: 'link to', header: true }
        ],
        ...bundle.entries.map(e => [
          e.name,
          bytes(e.size),
          `${e.sha256.slice(0, 12)}…`,
          e.target ?? ''
        ])
      ])
    if (!published) {
      s.addRaw('Not pushed (push: false).', true)
      return
    }
    const pull = pullCommand(published)
    s.addRaw(
      `Pushed to <code>${published.image.name}</code> with digest <code>${published.digest}</code>, tags:`,
      true
    )
      .addList(published.tags.map(t => `<code>${t}</code>`))
      .addCodeBlock(pull, 'sh')
  })
}
