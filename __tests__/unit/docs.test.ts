// Keeps the README and docs/ honest: every YAML example parses, uses only the inputs and
// outputs action.yml declares, passes actionlint when it is a workflow (a list of steps is
// linted inside a one-job workflow), and uses other actions at the majors this repository's
// own workflows use.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { parse, stringify } from 'yaml'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const ACTIONLINT = path.join(ROOT, '.tools', 'bin', 'actionlint')
/** How the examples name this action; `./` is how this repository's workflows do. */
const THIS_ACTION = /^(?:tinkerbell-community\/hook-bundle-action@\S+|\.\/?)$/

interface Block {
  file: string
  line: number
  text: string
}

/** Every fenced yaml block of README.md and docs/**\/*.md. */
function yamlBlocks(): Block[] {
  const files = ['README.md', ...markdownUnder('docs')]
  const blocks: Block[] = []
  for (const file of files) {
    const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)```(ya?ml)\s*$/.exec(lines[i]!)
      if (!open) continue
      const indent = open[1]!.length
      const body: string[] = []
      let j = i + 1
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!))
        body.push(lines[j++]!.slice(indent))
      blocks.push({ file, line: i + 1, text: body.join('\n') })
      i = j
    }
  }
  return blocks
}

function markdownUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter(f => f.endsWith('.md'))
    .map(f => path.join(dir, f))
    .sort()
}

type Step = Record<string, unknown> & { uses?: unknown; with?: unknown; id?: unknown }

/** Every mapping with a `uses` or `run` key: the steps, wherever they sit. */
function steps(node: unknown, found: Step[] = []): Step[] {
  if (Array.isArray(node)) for (const n of node) steps(n, found)
  else if (node !== null && typeof node === 'object') {
    const o = node as Step
    if (typeof o.uses === 'string' || typeof o.run === 'string') found.push(o)
    for (const v of Object.values(o)) steps(v, found)
  }
  return found
}

const action = parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}
const INPUTS = new Set(Object.keys(action.inputs))
const OUTPUTS = new Set(Object.keys(action.outputs))

/** owner/repo → the refs (majors) .github/workflows/*.yml use it at. */
function workflowMajors(): Map<string, Set<string>> {
  const majors = new Map<string, Set<string>>()
  const dir = path.join(ROOT, '.github', 'workflows')
  for (const f of readdirSync(dir).filter(f => /\.ya?ml$/.test(f))) {
    for (const s of steps(parse(readFileSync(path.join(dir, f), 'utf8')))) {
      const m = typeof s.uses === 'string' ? /^([^./][^@]*)@(\S+)$/.exec(s.uses) : null
      if (!m) continue
      const refs = majors.get(m[1]!) ?? new Set<string>()
      refs.add(m[2]!)
      majors.set(m[1]!, refs)
    }
  }
  return majors
}

const BLOCKS = yamlBlocks()

/** The parsed block, or undefined when it does not parse (its own test says so). */
function tryParse(text: string): unknown {
  try {
    return parse(text)
  } catch {
    return undefined
  }
}
const where = (b: Block): string => `${b.file}:${b.line}`

describe('the YAML examples in README.md and docs/', () => {
  it('are there to check', () => {
    expect(BLOCKS.length).toBeGreaterThan(5)
    const ours = BLOCKS.flatMap(b => steps(tryParse(b.text))).filter(
      s => typeof s.uses === 'string' && THIS_ACTION.test(s.uses)
    )
    expect(ours.length).toBeGreaterThan(5)
  })

  it.each(BLOCKS.map(b => [where(b), b] as const))('%s parses as YAML', (_, block) => {
    expect(() => parse(block.text, { prettyErrors: true })).not.toThrow()
  })

  it.each(BLOCKS.map(b => [where(b), b] as const))(
    '%s passes only declared inputs and reads only declared outputs',
    (_, block) => {
      const problems: string[] = []
      const all = steps(tryParse(block.text))
      const ids = new Set(all.map(s => s.id).filter((id): id is string => typeof id === 'string'))
      const ours = new Set<string>()
      for (const s of all) {
        if (typeof s.uses !== 'string' || !THIS_ACTION.test(s.uses)) continue
        if (typeof s.id === 'string') ours.add(s.id)
        const given = s.with === undefined || s.with === null ? {} : s.with
        for (const input of Object.keys(given as object))
          if (!INPUTS.has(input)) problems.push(`input "${input}" is not in action.yml`)
      }
      for (const m of block.text.matchAll(
        /\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g
      )) {
        const [, id, output] = m as unknown as [string, string, string]
        if (!ids.has(id)) problems.push(`steps.${id}: no step has id "${id}"`)
        else if (ours.has(id) && !OUTPUTS.has(output))
          problems.push(`steps.${id}.outputs.${output}: "${output}" is not in action.yml`)
      }
      expect(problems).toEqual([])
    }
  )

  it.each(BLOCKS.map(b => [where(b), b] as const))(
    '%s uses other actions at the majors .github/workflows use',
    (_, block) => {
      const majors = workflowMajors()
      const problems: string[] = []
      for (const s of steps(tryParse(block.text))) {
        if (
          typeof s.uses !== 'string' ||
          THIS_ACTION.test(s.uses) ||
          s.uses.startsWith('docker://')
        )
          continue
        const m = /^([^@]+)@(\S+)$/.exec(s.uses)
        const used = m ? majors.get(m[1]!) : undefined
        if (!m || !used) problems.push(`${s.uses}: no workflow in .github/workflows uses it`)
        else if (!used.has(m[2]!))
          problems.push(`${s.uses}: the workflows use @${[...used].join(', @')}`)
      }
      expect(problems).toEqual([])
    }
  )

  describe('actionlint', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'hook-docs-'))
    afterAll(() => rmSync(tmp, { recursive: true, force: true }))

    // A workflow is linted as written; a list of steps inside a one-job workflow.
    const lintable = BLOCKS.flatMap(b => {
      const doc = tryParse(b.text)
      if (doc !== null && typeof doc === 'object' && 'jobs' in doc) return [[where(b), b.text]]
      if (Array.isArray(doc) && steps(doc).length === doc.length && doc.length > 0) {
        const workflow = {
          on: 'workflow_dispatch',
          jobs: { example: { 'runs-on': 'ubuntu-latest', steps: doc } }
        }
        return [[`${where(b)} (steps)`, stringify(workflow)]]
      }
      return []
    }) as Array<[string, string]>

    it('has workflows to lint', () => expect(lintable.length).toBeGreaterThan(3))

    it.each(lintable)('%s passes actionlint', (name, text) => {
      if (!existsSync(ACTIONLINT)) {
        throw new Error(`${ACTIONLINT} is missing: run script/setup (it builds actionlint with Go)`)
      }
      const file = path.join(tmp, `${name.replace(/[^A-Za-z0-9]+/g, '-')}.yml`)
      writeFileSync(file, text)
      let output = ''
      try {
        execFileSync(ACTIONLINT, ['-no-color', '-oneline', file], { encoding: 'utf8' })
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string }
        output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message
      }
      expect(output).toBe('')
    })
  })
})
