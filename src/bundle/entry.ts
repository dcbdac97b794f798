/** One entry of the bundle directory as pushed: a file, or a standard-name link to one. */
export interface BundleEntry {
  name: string
  size: number
  sha256: string
  /** Bare file name the link points at; absent for regular files. */
  target?: string
}

/** Longest file name (NAME_MAX) of Linux file systems, in bytes. */
const NAME_MAX = 255
/**
 * The image format (publish/image-plan.ts) writes each bundle entry, and gives it to oras, as
 * `<bundle name>.tar`; known here so that extra-files refuses a name it cannot write before any
 * download.
 */
export const LAYER_FILE_SUFFIX = '.tar'
/** The longest bundle name the image format can write: `<name>.tar` must be a file name. */
export const IMAGE_NAME_MAX = NAME_MAX - LAYER_FILE_SUFFIX.length
