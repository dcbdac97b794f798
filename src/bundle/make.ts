import { randomUUID } from 'node:crypto'
import * as path from 'node:path'
import * as core from '@actions/core'
import { fetchArchive } from '../archives/archive.js'
import type { FetchOptions } from '../archives/content.js'
import { fetchIso } from '../archives/iso.js'
import type { Inputs } from '../inputs/inputs.js'
import { assetUrl, type Release } from '../release/release.js'
import type { BundlePlan } from '../release/variants.js'
import { bytes, mapLimit, seconds } from '../util/format.js'
import type { RunTemp } from '../util/run-temp.js'
import { buildBundle, type Bundle } from './bundle.js'
import type { ExtraFile } from './extra-files.js'

/** Archives fetched at once: enough to overlap network, hashing and inflating on two cores. */
const ARCHIVE_CONCURRENCY = 4

/**
 * Fetches the plan's archives and ISO images (or takes them from the tool cache), then lays out
 * the bundle in bundle-dir, or in a new directory of RUNNER_TEMP that the run keeps.
 */
export async function makeBundle(
  inputs: Inputs,
  release: Release,
  plan: BundlePlan,
  extraFiles: ExtraFile[],
  runnerTemp: string,
  temp: RunTemp,
  workDir: string
): Promise<Bundle> {
  const started = Date.now()
  const options = (asset: string): FetchOptions => ({
    url: assetUrl(release, asset),
    timeoutMs: inputs.downloadTimeoutMs,
    workDir,
    ...(inputs.downloadAuthorization === undefined
      ? {}
      : { authorization: inputs.downloadAuthorization })
  })
  const fetches = [
    ...plan.archives.map(archive => () => fetchArchive(archive, options(archive.asset))),
    ...plan.isos.map(iso => () => fetchIso(iso, options(iso.asset)))
  ]
  const contents = await mapLimit(fetches, ARCHIVE_CONCURRENCY, fetch => fetch())
  let dir = inputs.bundleDir
  if (dir === '') {
    dir = path.join(runnerTemp, `hook-bundle-${plan.variant}-${randomUUID().slice(0, 8)}`)
    temp.keepUnlessCancelled(dir)
  }
  const bundle = await buildBundle(plan, contents, dir, extraFiles)
  const total = bundle.entries.filter(e => e.target === undefined).reduce((n, e) => n + e.size, 0)
  const hits = contents.filter(c => c.cached).length
  core.info(
    `bundle ${bundle.dir}: ${bundle.entries.length} entries (${plan.links.length} links, ${bytes(total)}) from ${plan.archives.length} archives${plan.isos.length > 0 ? ` and ${plan.isos.length} ISO images` : ''} (${hits} from the tool cache)${extraFiles.length > 0 ? ` and ${extraFiles.length} extra files` : ''} in ${seconds(Date.now() - started)}`
  )
  for (const e of bundle.entries)
    core.info(
      `  ${e.name}${e.target ? ` -> ${e.target}` : ''}  ${bytes(e.size)}  sha256:${e.sha256}`
    )
  return bundle
}
