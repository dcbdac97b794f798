import * as path from 'node:path'
import * as core from '@actions/core'
import { holdsArchives } from './archives/archive-cache.js'
import { startHashing } from './archives/file-digest.js'
import { checkBundleDir, validateBundle, type Bundle } from './bundle/bundle.js'
import { resolveExtraFiles, type ExtraFile } from './bundle/extra-files.js'
import { makeBundle } from './bundle/make.js'
import { rfc3339 } from './inputs/created.js'
import { reference } from './inputs/image.js'
import { parseInputs, type Inputs } from './inputs/inputs.js'
import { publishArtifact } from './publish/artifact.js'
import { publishImage } from './publish/image-index.js'
import { orasVersion, type Registry } from './publish/oras/calls.js'
import { installOras } from './publish/oras/install.js'
import { stopOras } from './publish/oras/process.js'
import { moveTags, TagsNotMovedError } from './publish/oras/tag-moves.js'
import { planAnnotations, planProvenance, planTags, type ProvenanceFacts } from './publish/plan.js'
import type { Published } from './publish/published.js'
import { readPublished } from './publish/skip-published.js'
import { planIsos } from './release/isos.js'
import { fetchRelease, resolveNewest, type Release } from './release/release.js'
import {
  planBundle,
  releaseFileNames,
  resolveVariant,
  type BundlePlan
} from './release/variants.js'
import {
  bundleOutputs,
  logVariants,
  partialOutputs,
  pushOutputs,
  releaseOutputs,
  summarizeBundle,
  summarizeList,
  summarizeRepublished
} from './report/report.js'
import { ActionError, describeError } from './util/errors.js'
import { seconds } from './util/format.js'
import { cancelled, openRunTemp, type RunTemp } from './util/run-temp.js'

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
    temp = await openRunTemp(runnerTemp, stopOras)
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

    await publishVariant(inputs, release, runnerTemp, temp)
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

/** One variant: planned and checked, read from the registry, bundled, pushed, reported. */
async function publishVariant(
  inputs: Inputs,
  release: Release,
  runnerTemp: string,
  temp: RunTemp
): Promise<void> {
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
  const oras = inputs.push ? await group('oras', () => prepareOras(inputs, temp.dir)) : undefined
  const registry = oras?.registry
  let provenance: Record<string, string> | undefined
  if (oras) {
    provenance = planProvenance(provenanceFacts(inputs, release, plan, extraFiles, oras.version))
    const found = await group(`Published ${variant.name}?`, async () => {
      const republished = await readPublished(
        inputs.skipPublished,
        oras.registry,
        tags,
        provenance!
      )
      if (republished === undefined) return undefined
      const { published, findings, why } = republished
      await summarizeRepublished(release, variant.name, published, findings, why)
      return published
    }).catch((err: unknown) => {
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
    makeBundle(inputs, release, plan, extraFiles, runnerTemp, temp, workDir)
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
