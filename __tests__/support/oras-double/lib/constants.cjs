'use strict'
// Version and the media types and annotation keys oras uses.

const VERSION = '1.3.2'
const GO_VERSION = 'go1.25.5'
const GIT_COMMIT = 'e2cf6f6a1b4dd7f1436b4bbcb9d3f1d6dd0b4f0a'
const USER_AGENT = 'oras/' + VERSION

const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const MT_INDEX = 'application/vnd.oci.image.index.v1+json'
const MT_EMPTY = 'application/vnd.oci.empty.v1+json'
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar'
const MT_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
const MT_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json'
const MT_UNKNOWN_CONFIG = 'application/vnd.unknown.config.v1+json'
const MT_UNKNOWN_ARTIFACT = 'application/vnd.unknown.artifact.v1'
const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const MANIFEST_TYPES = [MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_MANIFEST, MT_INDEX]
const ANNOTATION_TITLE = 'org.opencontainers.image.title'
const ANNOTATION_CREATED = 'org.opencontainers.image.created'
const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name'
const ANNOTATION_DIGEST = 'io.deis.oras.content.digest'
const ANNOTATION_UNPACK = 'io.deis.oras.content.unpack'
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
const REGISTRY_ERROR_PREFIX = 'Error response from registry:'

module.exports = {
  ANNOTATION_CREATED,
  ANNOTATION_DIGEST,
  ANNOTATION_REF_NAME,
  ANNOTATION_TITLE,
  ANNOTATION_UNPACK,
  EMPTY_JSON_DIGEST,
  GIT_COMMIT,
  GO_VERSION,
  MANIFEST_TYPES,
  MT_DOCKER_LIST,
  MT_DOCKER_MANIFEST,
  MT_EMPTY,
  MT_IMAGE_CONFIG,
  MT_INDEX,
  MT_LAYER,
  MT_LAYER_GZIP,
  MT_MANIFEST,
  MT_UNKNOWN_ARTIFACT,
  MT_UNKNOWN_CONFIG,
  REGISTRY_ERROR_PREFIX,
  USER_AGENT,
  VERSION
}
