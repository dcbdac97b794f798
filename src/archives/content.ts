import type { ReleaseArchive } from '../release/catalog.js'

export interface ArchiveFile {
  name: string
  size: number
  sha256: string
}

/** The verified, extracted files of one archive, in a directory this run may read and link. */
export interface ArchiveContent {
  archive: ReleaseArchive
  dir: string
  files: ArchiveFile[]
  /** Newest entry time inside the archive, in ms since the epoch. */
  newestMtime: number
  cached: boolean
}

export interface FetchOptions {
  url: string
  timeoutMs: number
  /** A private directory of this run where staging copies may be made. */
  workDir: string
  /** Sent as the Authorization header (credentials given in download-url). */
  authorization?: string
}
