'use strict'
// oras-go file store Add: files become layers (symlinks followed), directories tar+gzip.

const fs = require('node:fs')
const fsp = require('node:fs/promises')
const nodeCrypto = require('node:crypto')
const {
  ANNOTATION_DIGEST,
  ANNOTATION_TITLE,
  ANNOTATION_UNPACK,
  MT_LAYER,
  MT_LAYER_GZIP
} = require('./constants.cjs')
const { CLIError } = require('./errors.cjs')
const { packDirectory } = require('./tar.cjs')

// oras-go file store Add: regular files (symlinks followed) and directories (tar+gzip).
async function addFile(filePath, name, mediaType, files, names) {
  if (names.includes(name)) throw new CLIError(`${name}: duplicate name`)
  names.push(name)
  let st
  try {
    st = await fsp.stat(filePath)
  } catch (e) {
    throw new CLIError(`stat ${filePath}: ${goErrno(e)}`)
  }
  if (st.isDirectory()) {
    const packed = await packDirectory(filePath, name)
    files.set(packed.digest, { path: packed.path })
    return {
      mediaType: mediaType || MT_LAYER_GZIP,
      digest: packed.digest,
      size: packed.size,
      annotations: {
        [ANNOTATION_DIGEST]: packed.tarDigest,
        [ANNOTATION_TITLE]: name,
        [ANNOTATION_UNPACK]: 'true'
      }
    }
  }
  const hash = nodeCrypto.createHash('sha256')
  let size = 0
  try {
    for await (const chunk of fs.createReadStream(filePath)) {
      hash.update(chunk)
      size += chunk.length
    }
  } catch (e) {
    throw new CLIError(`open ${filePath}: ${goErrno(e)}`)
  }
  const digest = 'sha256:' + hash.digest('hex')
  if (!files.has(digest)) files.set(digest, { path: filePath })
  return {
    mediaType: mediaType || MT_LAYER,
    digest,
    size,
    annotations: { [ANNOTATION_TITLE]: name }
  }
}

function goErrno(e) {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EACCES':
      return 'permission denied'
    case 'ENOTDIR':
      return 'not a directory'
    case 'ELOOP':
      return 'too many levels of symbolic links'
    case 'EISDIR':
      return 'is a directory'
    default:
      return e.message
  }
}

module.exports = { addFile }
