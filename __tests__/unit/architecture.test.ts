import { describe, expect, it } from '@jest/globals'
import { readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import ts from 'typescript'

// The shape of src/ (issue 19): folders by stage, imports one way, small files and functions.
// The stages in pipeline order; a file may import its own stage and earlier ones, never a later
// one. main.ts and index.ts sit above every stage: the only place that knows the order.
const STAGES = ['util', 'download', 'inputs', 'release', 'archives', 'bundle', 'publish', 'report']
const TOP = ['main.ts', 'index.ts']
const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 80

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : []
  )
}

const files = sources(SRC).map(f => path.relative(SRC, f).split(path.sep).join('/'))
const parsed = new Map(
  files.map(f => {
    const text = readFileSync(path.join(SRC, f), 'utf8')
    return [f, ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true)] as const
  })
)

/** The src/ files a file imports (static imports and re-exports, `import type` included). */
function localImports(file: string, source: ts.SourceFile): string[] {
  const out: string[] = []
  for (const node of source.statements) {
    if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue
    const spec = node.moduleSpecifier
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue
    const target = path.posix.normalize(
      path.posix.join(path.posix.dirname(file), spec.text.replace(/\.js$/, '.ts'))
    )
    out.push(target)
  }
  return out
}

const graph = new Map([...parsed].map(([f, s]) => [f, localImports(f, s)]))

/** The stage a file belongs to: its first folder, or `top` for main.ts and index.ts. */
function stageOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : 'top'
}

function rank(file: string): number {
  const stage = stageOf(file)
  return stage === 'top' ? STAGES.length : STAGES.indexOf(stage)
}

/** Every import circle, each as the path that closes it. */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (f: string): void => {
    state.set(f, 'open')
    stack.push(f)
    for (const next of g.get(f) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(f, 'done')
  }
  for (const f of [...g.keys()].sort()) if (!state.has(f)) visit(f)
  return found
}

/** Every function-like node longer than `max` lines, as `file:line name (N lines)`. */
function longFunctions(file: string, source: ts.SourceFile, max: number): string[] {
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1
      const lines = end - start + 1
      if (lines > max) {
        const name =
          'name' in node && node.name !== undefined ? node.name.getText(source) : '(anonymous)'
        out.push(`${file}:${start} ${name} (${lines} lines)`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

describe('src/ architecture', () => {
  it('reads every file and knows every folder as a stage', () => {
    expect(files.length).toBeGreaterThan(20)
    const unknown = files.filter(f => {
      const stage = stageOf(f)
      return stage === 'top' ? !TOP.includes(f) : !STAGES.includes(stage)
    })
    expect(unknown).toEqual([])
  })

  it('imports only files that exist', () => {
    const missing = [...graph].flatMap(([f, targets]) =>
      targets.filter(t => !parsed.has(t)).map(t => `${f} -> ${t}`)
    )
    expect(missing).toEqual([])
  })

  it('has no import circle', () => {
    expect(cycles(graph).map(c => c.join(' -> '))).toEqual([])
  })

  it('finds a circle when there is one', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']]
    ])
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']])
  })

  it('imports flow one way: no stage imports a later one', () => {
    const backwards = [...graph].flatMap(([f, targets]) =>
      targets
        .filter(t => parsed.has(t) && rank(t) > rank(f))
        .map(t => `${f} (${stageOf(f)}) -> ${t} (${stageOf(t)})`)
    )
    expect(backwards).toEqual([])
  })

  it(`has no source file over ${MAX_FILE_LINES} lines`, () => {
    const long = [...parsed]
      .map(([f, s]) => ({ f, lines: s.getLineAndCharacterOfPosition(s.getEnd()).line }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ f, lines }) => `${f} (${lines} lines)`)
    expect(long).toEqual([])
  })

  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = [...parsed].flatMap(([f, s]) => longFunctions(f, s, MAX_FUNCTION_LINES))
    expect(long).toEqual([])
  })
})
