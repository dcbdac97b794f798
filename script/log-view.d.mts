export interface LogView {
  /** One line the action printed on stdout. */
  line(text: string): void
  /** `text` with every value masked so far replaced by ***. */
  mask(text: string): string
}

export function createLogView(opts: {
  debug?: boolean
  color?: boolean
  write: (line: string) => void
}): LogView
