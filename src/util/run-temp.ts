import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'

/**
 * What one run leaves in RUNNER_TEMP, and its removal on success, on failure and on
 * cancellation. RUNNER_TEMP is emptied only at the end of the job: whatever a step leaves there
 * is readable by the job's later steps.
 */
export interface RunTemp {
  /** The run's private directory (mode 0700): work files, downloads, extractions. */
  dir: string
  /** A directory outside `dir` made for this run that outlives it (the default bundle-dir). */
  keepUnlessCancelled(dir: string): void
  /** Removes `dir`; on cancellation also the kept directories. */
  close(): Promise<void>
}

let cancelling: Promise<void> | undefined

/** True once SIGINT or SIGTERM arrived: the failure that follows is the cancellation's. */
export function cancelled(): boolean {
  return cancelling !== undefined
}

/**
 * Makes the run's private directory. `stopChildren` runs first on cancellation: whatever the
 * run started that would outlive it (oras, which main.ts passes in).
 */
export async function openRunTemp(
  runnerTemp: string,
  stopChildren: () => Promise<void>
): Promise<RunTemp> {
  const dir = await mkdtemp(path.join(runnerTemp, 'hook-bundle-run-'))
  // The toolkit and the downloads name their temporary files under RUNNER_TEMP themselves:
  // pointing it here puts them in this run's directory, so one removal takes everything.
  process.env['RUNNER_TEMP'] = dir
  const kept: string[] = []
  const remove = async (dirs: string[]): Promise<void> => {
    for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => undefined)
  }

  // The runner sends SIGINT on cancel and timeout, SIGTERM 7.5 s later, then SIGKILL. Node's
  // default would exit at once, leaving oras running and every temporary file behind.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (cancelling) return
    process.exitCode = signal === 'SIGINT' ? 130 : 143
    cancelling = (async () => {
      await stopChildren()
      // Synchronously, then exit at once: downloads and extractions still running would
      // otherwise recreate files in the directories between their removal and the exit.
      for (const d of [dir, ...kept]) rmSync(d, { recursive: true, force: true, maxRetries: 3 })
      core.error(`cancelled (${signal}): stopped oras and removed this run's temporary files`)
      process.exit()
    })()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  return {
    dir,
    keepUnlessCancelled: d => void kept.push(d),
    close: async () => {
      await remove([dir])
      await cancelling
      process.env['RUNNER_TEMP'] = runnerTemp
    }
  }
}
