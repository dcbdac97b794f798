import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { fetchArchive } from './archive.js'
import { buildBundle, validateBundle, type Bundle } from './bundle.js'
import { ActionError, describeError } from './errors.js'
import { bytes, mapLimit, seconds } from './format.js'
import { reference } from './image.js'
import { parseInputs, rfc3339, type Inputs } from './inputs.js'
import { installOras, login, orasVersion, push, type Registry } from './oras.js'
import { annotationFile, mediaTypeFor, planAnnotations, planTags } from './publish.js'
import { assetUrl, fetchRelease, resolveNewest, type Release } from './release.js'
import {
  bundleOutputs,
  logVariants,
  pushOutputs,
  releaseOutputs,
  summarizeBundle,
  summarizeList,
  type Published
} from './report.js'
import { planBundle, resolveVariant, type BundlePlan } from './variants.js'

/** Archives fetched at once: enough to overlap network, hashing and inflating on two cores. */
const ARCHIVE_CONCURRENCY = 4

export async function run(): Promise<void> {
  const work: string[] = []
  try {
    const inputs = parseInputs(name => core.getInput(name), process.env)
    // Masked before anything could print them.
    if (inputs.password !== '') core.setSecret(inputs.password)
    if (inputs.githubToken !== '') core.setSecret(inputs.githubToken)
    const temp = runnerDir('RUNNER_TEMP')
    runnerDir('RUNNER_TOOL_CACHE')

    const release = await group('Release', () => readRelease(inputs))
    releaseOutputs(release)
    if (inputs.variant === '') {
      logVariants(release)
      await summarizeList(release)
      pushOutputs(undefined)
      return
    }

    const variant = resolveVariant(inputs.variant, release.variants)
    const plan = planBundle(variant, release.archives)
    // Everything that can be refused without the archives is refused before downloading them.
    const tags = inputs.push
      ? planTags(release.tag, variant.name, inputs.latest, inputs.extraTags)
      : []
    const registry = inputs.push
      ? await group('oras', () => prepareOras(inputs, temp, work))
      : undefined

    const workDir = await mkdtemp(path.join(temp, 'hook-bundle-work-'))
    work.push(workDir)
    const bundle = await group(`Bundle ${variant.name}`, () =>
      makeBundle(inputs, release, plan, temp, workDir)
    )
    bundleOutputs(bundle)

    let published: Published | undefined
    if (registry) {
      published = await group(`Push ${variant.name}`, () =>
        publish(inputs, registry, release, variant.name, bundle, tags, workDir)
      )
    }
    pushOutputs(published)
    await summarizeBundle(release, variant.name, bundle, published)
  } catch (err) {
    if (!(err instanceof ActionError) && err instanceof Error && core.isDebug())
      core.debug(err.stack ?? '')
    core.setFailed(describeError(err))
  } finally {
    // The registry credentials live in one of these: removed on success and on failure.
    for (const dir of work) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
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
    inputs.downloadTimeoutMs
  )
  core.info(
    `${release.repository} ${release.tag}: ${release.archives.length} archives, ${release.variants.length} variants`
  )
  return release
}

async function prepareOras(inputs: Inputs, temp: string, work: string[]): Promise<Registry> {
  const binary = await installOras(inputs.oras, inputs.downloadTimeoutMs)
  core.info(`oras ${await orasVersion(binary)} at ${binary}`)
  core.addPath(path.dirname(binary))
  core.setOutput('oras-path', binary)
  const dir = await mkdtemp(path.join(temp, 'hook-bundle-auth-'))
  work.push(dir)
  const registry: Registry = {
    binary,
    config: path.join(dir, 'config.json'),
    image: inputs.image!,
    plainHttp: inputs.plainHttp
  }
  // Logging in before the downloads turns a bad password into a failure in seconds.
  if (inputs.password !== '') await login(registry, inputs.username, inputs.password)
  return registry
}

async function makeBundle(
  inputs: Inputs,
  release: Release,
  plan: BundlePlan,
  temp: string,
  workDir: string
): Promise<Bundle> {
  const started = Date.now()
  const contents = await mapLimit(plan.archives, ARCHIVE_CONCURRENCY, archive =>
    fetchArchive(archive, {
      url: assetUrl(release, archive.asset),
      timeoutMs: inputs.downloadTimeoutMs,
      workDir
    })
  )
  const dir =
    inputs.bundleDir !== ''
      ? inputs.bundleDir
      : path.join(temp, `hook-bundle-${plan.variant}-${randomUUID().slice(0, 8)}`)
  const bundle = await buildBundle(plan, contents, dir)
  const total = bundle.entries.filter(e => e.target === undefined).reduce((n, e) => n + e.size, 0)
  const hits = contents.filter(c => c.cached).length
  core.info(
    `bundle ${bundle.dir}: ${bundle.entries.length} entries (${plan.links.length} links, ${bytes(total)}) from ${contents.length} archives (${hits} from the tool cache) in ${seconds(Date.now() - started)}`
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
  workDir: string
): Promise<Published> {
  await validateBundle(bundle)
  const created = inputs.created ?? rfc3339(new Date(bundle.newestMtime))
  const annotations = planAnnotations({
    hookRepository: release.repository,
    version: release.tag,
    variant,
    created,
    extra: inputs.annotations
  })
  const file = path.join(workDir, 'annotations.json')
  await writeFile(file, JSON.stringify(annotationFile(annotations, bundle.entries), null, 2))
  const started = Date.now()
  const result = await push(registry, inputs.username, {
    tags,
    files: bundle.entries.map(e => ({ name: e.name, mediaType: mediaTypeFor(e.name) })),
    cwd: bundle.dir,
    artifactType: inputs.artifactType,
    annotationFile: file
  })
  const refs = tags.map(t => reference(registry.image, t))
  core.info(`pushed ${refs.join(', ')} as ${result.digest} in ${seconds(Date.now() - started)}`)
  return { image: registry.image, tags, refs, digest: result.digest }
}
