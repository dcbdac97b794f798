import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readdir } from 'node:fs/promises'
import { runAction, type ActionRun } from '../support/action.js'
import { startGhcrFront, type GhcrFront } from '../support/ghcr-front.js'
import { startWorld, type World } from '../support/world.js'

// The real oras against a registry that speaks the token protocol the way GHCR does (a Bearer
// challenge, scoped tokens from Basic credentials, anonymous pull tokens), with both answers
// GHCR gives to a read of a package that does not exist yet: 404, and 403 DENIED.

const USER = { username: 'octo-bot', password: 'ghp-test-9f1c2e' }
let world: World
const fronts: Record<'denied' | 'not-found', GhcrFront> = {} as never

beforeAll(async () => {
  world = await startWorld()
  for (const mode of ['denied', 'not-found'] as const) {
    fronts[mode] = await startGhcrFront(world.registry.url, {
      users: { [USER.username]: USER.password },
      missingRepository: mode
    })
  }
})

afterAll(async () => {
  for (const front of Object.values(fronts)) await front?.stop()
  await world?.stop()
})

let n = 0
function publish(
  front: GhcrFront,
  extra: Record<string, string> = {}
): Promise<ActionRun & { repo: string }> {
  const repo = `octo-org/hook-${++n}`
  const inputs = {
    ...world.inputs('lts', { username: USER.username, password: USER.password, ...extra }, repo),
    image: `${front.host}/${repo}`
  }
  return runAction({ inputs }).then(run => ({ ...run, repo }))
}

describe('a first publish, nothing in the package yet', () => {
  it('GHCR answers the skip check 403 DENIED: one warning, then built and pushed', async () => {
    const run = await publish(fronts.denied)
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^could not read what ${fronts.denied.host}/${run.repo}:v0\\.11\\.1-lts holds \\(.*denied.*\\); building and pushing as if nothing were published$`
        )
      )
    ])
    expect(fronts.denied.requests).toContain(`GET /v2/${run.repo}/manifests/v0.11.1-lts 403`)
    expect((await world.registry.getManifest(run.repo, 'v0.11.1-lts')).digest).toBe(
      run.outputs['digest']
    )
    // Published now: the next run reads it through the same front and skips.
    const again = await runAction({
      inputs: {
        ...world.inputs('lts', { ...USER }, run.repo),
        image: `${fronts.denied.host}/${run.repo}`
      }
    })
    expect(again.exitCode).toBe(0)
    expect(again.warnings).toEqual([])
    expect(again.outputs['skipped']).toBe('true')
  })

  it('GHCR answers the skip check 404: no warning, built and pushed', async () => {
    const run = await publish(fronts['not-found'])
    expect(run.exitCode).toBe(0)
    expect(run.warnings).toEqual([])
    expect((await world.registry.listTags(run.repo)).sort()).toEqual(['v0.11.1', 'v0.11.1-lts'])
  })
})

describe('credentials', () => {
  it('a wrong password: the push fails in one line naming the user, nothing pushed', async () => {
    const run = await publish(fronts.denied, { password: 'wrong' })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      `${fronts.denied.host} rejected the credentials of "${USER.username}" (401 unauthorized) on push to ${fronts.denied.host}/${run.repo}: check username and password`
    ])
    expect(await world.registry.listTags(run.repo)).toEqual([])
    // The bundle directory stays for later steps; nothing else does.
    const left = await readdir(run.env['RUNNER_TEMP']!)
    expect(left.filter(name => !name.startsWith('hook-bundle-lts-'))).toEqual([])
  })

  it('no password: says that none were given, blames no one’s credentials, nothing pushed', async () => {
    const run = await publish(fronts.denied, { password: '' })
    expect(run.exitCode).toBe(1)
    // An anonymous token may not push, and GHCR denies its reads of a package that does not
    // exist yet: whichever oras meets first, the line says that no credentials were sent.
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${fronts.denied.host} (requires credentials to push|denied push to) ${fronts.denied.host}/${run.repo} (and none were given|\\(403\\) to a client without credentials) \\(password is empty\\): set username and password; `
        )
      )
    ])
    expect(run.errors[0]).not.toContain('rejected')
    // oras asked for anonymous tokens only.
    expect(fronts.denied.tokenRequests.filter(t => t.includes(run.repo))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^anonymous /)])
    )
    expect(fronts.denied.tokenRequests.filter(t => t.includes(run.repo))).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^octo-bot /)])
    )
    expect(await world.registry.listTags(run.repo)).toEqual([])
  })
})
