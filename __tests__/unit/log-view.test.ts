import { describe, expect, it } from '@jest/globals'
import { createLogView } from '../../script/log-view.mjs'

// npm run local's log view (issue 12): workflow commands read as a runner's log view shows them.

function view(lines: string[], debug = false): string[] {
  const out: string[] = []
  const v = createLogView({ debug, write: l => out.push(l) })
  for (const l of lines) v.line(l)
  return out
}

describe('createLogView', () => {
  it('groups become headings; plain lines pass; state and output commands vanish', () => {
    expect(
      view([
        '::group::Release',
        'tinkerbell/hook v0.11.1: 10 archives',
        '::endgroup::',
        '::set-output name=x::1',
        '::save-state name=s::2',
        '::add-path::/x',
        '::echo::on'
      ])
    ).toEqual(['', '== Release', 'tinkerbell/hook v0.11.1: 10 archives'])
  })

  it('hides debug lines unless asked for', () => {
    expect(view(['::debug::checking cache', 'done'])).toEqual(['done'])
    expect(view(['::debug::checking cache', 'done'], true)).toEqual([
      'debug: checking cache',
      'done'
    ])
  })

  it('reads errors, warnings and notices as sentences, unescaped, with their place', () => {
    expect(
      view([
        '::error::hook-version "bogus" is not a hook release: 100%25 sure',
        '::warning file=a.ts,line=3::two%0Alines',
        '::notice title=Note%3A x::fyi'
      ])
    ).toEqual([
      'Error: hook-version "bogus" is not a hook release: 100% sure',
      'Warning: two',
      'lines (file a.ts, line 3)',
      'Notice: fyi (title Note: x)'
    ])
  })

  it('masks every value after its ::add-mask::, longest first, in lines and by mask()', () => {
    const out: string[] = []
    const v = createLogView({ write: l => out.push(l) })
    v.line('before s3cret')
    v.line('::add-mask::s3cret')
    v.line('::add-mask::s3cret-longer')
    v.line('::add-mask::100%25')
    v.line('after s3cret and s3cret-longer and 100%')
    v.line('::error::bad s3cret')
    v.line('::debug::s3cret')
    expect(out).toEqual(['before s3cret', 'after *** and *** and ***', 'Error: bad ***'])
    expect(v.mask('url https://u:s3cret@h')).toBe('url https://u:***@h')
  })

  it('prints commands verbatim between ::stop-commands:: and its token', () => {
    expect(
      view(['::stop-commands::tok', '::error::not a command here', '::tok::', '::error::x'])
    ).toEqual(['::error::not a command here', 'Error: x'])
  })
})
