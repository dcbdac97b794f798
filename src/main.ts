import { randomUUID } from 'node:crypto'
import * as path from 'node:path'
import * as core from '@actions/core'
import { fetchArchive, type FetchOptions } from './archives/archive.js'
import { holdsArchives } from './archives/archive-cache.js'
import { buildBundle, checkBundleDir, validateBundle, type Bundle } from './bundle/bundle.js'
import { ActionError, describeError } from './util/errors.js'
import { resolveExtraFiles, type ExtraFile } from './bundle/extra-files.js'
import { startHashing } from './archives/file-digest.js'
import { bytes, mapLimit, seconds } from './util/format.js'
import { reference } from './inputs/image.js'
import { parseInputs, rfc3339, type Inputs } from './inputs/inputs.js'
import { fetchIso, planIsos } from './archives/iso.js'
import {
  installOras,
  moveTags,
  orasVersion,
  TagsNotMovedError,
  type Registry
} from './publish/oras/oras.js'
import { planAnnotations, planProvenance, planTags, type ProvenanceFacts } from './publish/plan.js'
import { publishArtifact } from './publish/artifact.js'
import { publishImage } from './publish/image-index.js'
import { assetUrl, fetchRelease, resolveNewest, type Release } from './release/release.js'
import {
  bundleOutputs,
  logVariants,
  partialOutputs,
  pushOutputs,
  releaseOutputs,
  summarizeBundle,
  summarizeList,
  type Published
} from './report/report.js'
import { cancelled, openRunTemp, type RunTemp } from './util/run-temp.js'
import { readPublished } from './publish/skip-published.js'
import {
  planBundle,
  releaseFileNames,
  resolveVariant,
  type BundlePlan
} from './release/variants.js'

/** Archives fetched at once: enough to overlap network, hashing and inflating on two cores. */
const ARCHIVE_CONCURRENCY = 4

export async function run(): Promise<void> {
  let temp: RunTemp | undefined
  try {
    const inputs = parseInputs(name => core.getInput(name), process.env)
    // Masked before anything could print them.
    for (const secret of inputs.secrets) core.setSecret(secret)
    const runnerTemp = runnerDir('RUNNER_TEMP')
    // Tool cache hits re-hash every file on worker threads: where hits are likely, those start
    // now, while checksum.txt is fetched, not when the first hit needs them.
    if (await holdsArchives(runnerDir('RUNNER_TOOL_CACHE'))) startHashing()
    temp = await openRunTemp(runnerTemp)
    // A bundle-dir the bundle cannot be renamed onto fails before any download.
    if (inputs.bundleDir !== '') await checkBundleDir(inputs.bundleDir)

    const release = await group('Release', () => readRelease(inputs))
    releaseOutputs(release)
    if (inputs.variant === '') {
      logVariants(release)
      await summarizeList(release)
      pushOutputs(undefined)
      return
    }

    const variant = resolveVariant(inputs.variant, release.variants)
    const plan = {
      ...planBundle(variant, release.archives),
      isos: inputs.iso ? planIsos(variant, release.isos, release.variants) : []
    }
    const extraFiles = await resolveExtraFiles(
      inputs.extraFiles,
      process.env['GITHUB_WORKSPACE'] || process.cwd(),
      releaseFileNames([...release.archives, ...release.isos]),
      { imageLayers: inputs.push && inputs.format === 'image' }
    )
    // Everything that can be refused without the archives is refused before downloading them.
    const tags = inputs.push
      ? planTags(release.tag, variant.name, inputs.latest, inputs.extraTags)
      : []
    const oras = inputs.push ? await group('oras', () => prepareOras(inputs, temp!.dir)) : undefined
    const registry = oras?.registry
    let provenance: Record<string, string> | undefined
    if (oras) {
      provenance = planProvenance(provenanceFacts(inputs, release, plan, extraFiles, oras.version))
      const found = await group(`Published ${variant.name}?`, () =>
        readPublished(inputs.skipPublished, oras.registry, release, variant.name, tags, provenance!)
      ).catch((err: unknown) => {
        // Some of the missing tags moved to the published bundle before one was refused.
        if (err instanceof TagsNotMovedError) partialOutputs(oras.registry.image, tags, err, false)
        throw err
      })
      if (found) {
        pushOutputs(found)
        return
      }
    }

    const workDir = temp.dir
    const bundle = await group(`Bundle ${variant.name}`, () =>
      makeBundle(inputs, release, plan, extraFiles, runnerTemp, temp!, workDir)
    )
    bundleOutputs(bundle)

    let published: Published | undefined
    if (registry) {
      published = await group(`Push ${variant.name}`, () =>
        publish(inputs, registry, release, variant.name, bundle, tags, provenance!, workDir)
      )
    }
    pushOutputs(published)
    await summarizeBundle(release, variant.name, bundle, published)
  } catch (err) {
    // A cancelled run reports its cancellation, not the failure of what it interrupted.
    if (cancelled()) return
    if (!(err instanceof ActionError) && err instanceof Error && core.isDebug())
      core.debug(err.stack ?? '')
    core.setFailed(describeError(err))
  } finally {
    await temp?.close()
  }
}

async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  core.startGroup(name)
  try {
    return await fn()
  } finally {
    core.endGroup()
  }
}

function runnerDir(name: 'RUNNER_TEMP' | 'RUNNER_TOOL_CACHE'): string {
  const dir = process.env[name]
  if (!dir) {
    throw new ActionError(
      `${name} is not set: run this action on a GitHub runner or through \`npm run local\``
    )
  }
  return dir
}

async function readRelease(inputs: Inputs): Promise<Release> {
  const tag =
    inputs.hookVersion === 'newest'
      ? await resolveNewest(inputs.hookRepository, inputs.githubToken)
      : inputs.hookVersion
  if (inputs.hookVersion === 'newest')
    core.info(`newest release of ${inputs.hookRepository}: ${tag}`)
  const release = await fetchRelease(
    tag,
    inputs.hookRepository,
    inputs.downloadUrl,
    inputs.downloadTimeoutMs,
    inputs.downloadAuthorization
  )
  core.info(
    `${release.repository} ${release.tag}: ${release.archives.length} archives, ${release.variants.length} variants`
  )
  return release
}

async function prepareOras(
  inputs: Inputs,
  privateDir: string
): Promise<{ registry: Registry; version: string }> {
  const binary = await installOras(inputs.oras, inputs.downloadTimeoutMs)
  const version = await orasVersion(binary)
  core.info(`oras ${version} at ${binary}`)
  core.addPath(path.dirname(binary))
  core.setOutput('oras-path', binary)
  const registry: Registry = {
    binary,
    // Never written: the credentials go to oras on stdin, call by call.
    config: path.join(privateDir, 'no-registry-config.json'),
    image: inputs.image!,
    plainHttp: inputs.plainHttp,
    username: inputs.username,
    password: inputs.password
  }
  return { registry, version }
}

/** Everything that shapes the pushed bytes, as known before any download. */
function provenanceFacts(
  inputs: Inputs,
  release: Release,
  plan: BundlePlan,
  extraFiles: ExtraFile[],
  orasVersion: string
): ProvenanceFacts {
  return {
    format: inputs.format,
    variant: plan.variant,
    hookRepository: release.repository,
    release: release.tag,
    sources: [...plan.archives, ...plan.isos],
    artifactType: inputs.format === 'artifact' ? inputs.artifactType : undefined,
    annotations: inputs.annotations,
    created: inputs.created ?? 'derived',
    iso: inputs.iso,
    extraFiles: Object.fromEntries(extraFiles.map(f => [f.name, f.sha256])),
    orasVersion
  }
}

async function makeBundle(
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

async function publish(
  inputs: Inputs,
  registry: Registry,
  release: Release,
  variant: string,
  bundle: Bundle,
  tags: string[],
  provenance: Record<string, string>,
  workDir: string
): Promise<Published> {
  await validateBundle(bundle)
  const created = inputs.created ?? rfc3339(new Date(bundle.newestMtime))
  const annotations = planAnnotations({
    hookRepository: release.repository,
    version: release.tag,
    variant,
    created,
    extra: inputs.annotations,
    provenance
  })
  const started = Date.now()
  // Pushed untagged and compared with what was checked; only then does any tag move.
  const { digest, platforms } =
    inputs.format === 'image'
      ? await publishImage(registry, bundle, annotations, workDir)
      : await publishArtifact(registry, bundle, inputs.artifactType, annotations, workDir)
  try {
    await moveTags(registry, digest, tags, { pushed: true })
  } catch (err) {
    if (err instanceof TagsNotMovedError) partialOutputs(registry.image, tags, err, true, platforms)
    throw err
  }
  const refs = tags.map(t => reference(registry.image, t))
  core.info(`pushed ${refs.join(', ')} as ${digest} in ${seconds(Date.now() - started)}`)
  return { image: registry.image, tags, refs, digest, platforms, skipped: false, moved: [] }
}
