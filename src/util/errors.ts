/**
 * An error whose message is meant for the workflow author: one line saying what was wrong and
 * what is accepted or what to do. main.ts prints only the message for these; anything else is a
 * bug and keeps its stack in the debug log.
 */
export class ActionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*\n\s*/g, ' '), options)
    this.name = 'ActionError'
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
