'use strict'
// Copying a packed manifest and its blobs to a registry or OCI layout (oras-go Copy), with status lines.

const { ANNOTATION_TITLE } = require('./constants.cjs')
const { copyError } = require('./errors.cjs')
const { printStatus } = require('./output.cjs')

async function runLimited(items, limit, fn) {
  const n = Math.max(1, limit)
  let next = 0
  let failed = null
  const worker = async () => {
    while (failed === null && next < items.length) {
      const i = next++
      try {
        await fn(items[i], i)
      } catch (e) {
        if (failed === null) failed = e
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  if (failed) throw failed
}

function successorsOf(packed) {
  const seen = new Set()
  const list = []
  for (const d of [packed.manifest.config, ...packed.manifest.layers]) {
    if (seen.has(d.digest)) continue
    seen.add(d.digest)
    list.push(d)
  }
  return list
}

// status.TextPushHandler.PostCopy for the manifest: deduplicated successors are reported as existing.
function printDeduplicated(packed, committed, printer) {
  for (const d of [packed.manifest.config, ...packed.manifest.layers]) {
    const name = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (committed.has(d.digest) && committed.get(d.digest) !== name)
      printStatus(printer, d, 'Exists   ')
  }
}

async function copyToRemote(
  repo,
  root,
  packed,
  contentOf,
  reference,
  printer,
  textStatus,
  concurrency
) {
  const limit = concurrency <= 0 ? 3 : concurrency
  const committed = new Map()
  const status = (d, s) => {
    if (textStatus) printStatus(printer, d, s)
  }
  const pushRootWithRef = async () => {
    await repo.pushManifest(root, packed.content, reference || root.digest)
  }
  let exists
  try {
    exists = await repo.manifestExists(root)
  } catch (e) {
    throw copyError('Exists', 'destination', e)
  }
  if (exists) {
    try {
      await pushRootWithRef()
    } catch (e) {
      throw copyError('PushReference', 'destination', e)
    }
    return
  }
  await runLimited(successorsOf(packed), limit, async d => {
    let has
    try {
      has = await repo.blobExists(d)
    } catch (e) {
      throw copyError('Exists', 'destination', e)
    }
    const title = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (has) {
      committed.set(d.digest, title)
      status(d, 'Exists   ')
      return
    }
    status(d, 'Uploading')
    try {
      await repo.pushBlob(d, contentOf(d))
    } catch (e) {
      throw copyError('Push', 'destination', e)
    }
    committed.set(d.digest, title)
    status(d, 'Uploaded ')
  })
  status(root, 'Uploading')
  try {
    await pushRootWithRef()
  } catch (e) {
    throw copyError(reference ? 'PushReference' : 'Push', 'destination', e)
  }
  if (textStatus) printDeduplicated(packed, committed, printer)
  status(root, 'Uploaded ')
}

async function copyToLayout(
  store,
  root,
  packed,
  contentOf,
  reference,
  printer,
  textStatus,
  concurrency
) {
  const limit = concurrency <= 0 ? 3 : concurrency
  const committed = new Map()
  const status = (d, s) => {
    if (textStatus) printStatus(printer, d, s)
  }
  if (store.exists(root)) {
    status(root, 'Exists   ')
    if (reference) store.tag(root, reference)
    return
  }
  await runLimited(successorsOf(packed), limit, async d => {
    const title = d.annotations && d.annotations[ANNOTATION_TITLE]
    if (store.exists(d)) {
      committed.set(d.digest, title)
      status(d, 'Exists   ')
      return
    }
    status(d, 'Uploading')
    await store.push(d, contentOf(d))
    committed.set(d.digest, title)
    status(d, 'Uploaded ')
  })
  status(root, 'Uploading')
  await store.push(root, packed.content)
  if (reference) store.tag(root, reference)
  if (textStatus) printDeduplicated(packed, committed, printer)
  status(root, 'Uploaded ')
}

module.exports = { copyToLayout, copyToRemote, runLimited }
