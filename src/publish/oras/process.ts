import { spawn, type ChildProcess } from 'node:child_process'

export interface OrasOutput {
  exitCode: number
  stdout: string
  stderr: string
}

// Every oras still running, so that a cancelled step can stop them: @actions/exec gives no
// handle on its child, and an orphaned oras would go on pushing after the step was cancelled.
const running = new Set<ChildProcess>()

/**
 * Runs oras with an argument vector (no shell). `stdin` carries the registry password, so it
 * is on no command line and in no file; stdin is closed either way, so oras never waits on it.
 */
export function runOras(
  binary: string,
  args: string[],
  opts: { cwd?: string; stdin?: string } = {}
): Promise<OrasOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    // oras may exit before reading its stdin (a flag error): that is its answer, not ours.
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.stdin ?? '')
    child.once('error', err => {
      running.delete(child)
      reject(err)
    })
    child.once('close', (code, signal) => {
      running.delete(child)
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr })
    })
  })
}

/** Stops every running oras: SIGTERM, then SIGKILL for one that ignores it within `graceMs`. */
export async function stopOras(graceMs = 1000): Promise<void> {
  await Promise.all(
    [...running].map(
      child =>
        new Promise<void>(resolve => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
          child.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGTERM')
        })
    )
  )
}
