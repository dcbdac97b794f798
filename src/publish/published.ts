import type { ImageTarget } from '../inputs/image.js'

/** What a run published, or found already published: the report's and the outputs' facts. */
export interface Published {
  image: ImageTarget
  tags: string[]
  refs: string[]
  digest: string
  /** Image format: platform → manifest digest. */
  platforms?: Record<string, string>
  /** No bundle was built: the tags already named (or were moved to) one from the same inputs. */
  skipped: boolean
  /** Tags pointed at the existing digest with `oras tag`. */
  moved: string[]
}
