import { describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/errors.js'
import { parseCreated, parseInputs, type Inputs } from '../../src/inputs.js'

function parse(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Inputs {
  return parseInputs(name => inputs[name] ?? '', {
    GITHUB_REPOSITORY: 'Some-Owner/Hook-Images',
    ...env
  })
}

function refusal(inputs: Record<string, string>, env?: NodeJS.ProcessEnv): string {
  try {
    parse(inputs, env)
  } catch (err) {
    expect(err).toBeInstanceOf(ActionError)
    const message = (err as Error).message
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error('expected a refusal')
}

describe('parseInputs', () => {
  it('applies the action.yml defaults when the runner did not', () => {
    const i = parse({ 'hook-version': 'v0.11.1', variant: 'lts' })
    expect(i).toMatchObject({
      hookVersion: 'v0.11.1',
      variant: 'lts',
      hookRepository: 'tinkerbell/hook',
      downloadUrl: 'https://github.com/tinkerbell/hook/releases/download',
      push: true,
      latest: false,
      plainHttp: false,
      artifactType: 'application/vnd.tinkerbell.hook.os.v1+tar',
      oras: { version: '1.3.2' },
      downloadTimeoutMs: 900_000,
      created: undefined
    })
    // GHCR needs lower case; forks often have upper case in their names.
    expect(i.image).toEqual({
      kind: 'registry',
      registry: 'ghcr.io',
      repository: 'some-owner/hook-images',
      name: 'ghcr.io/some-owner/hook-images'
    })
  })

  it('needs no image in list mode or without push', () => {
    expect(parse({ 'hook-version': 'latest' }, { GITHUB_REPOSITORY: '' }).image).toBeUndefined()
    expect(
      parse({ 'hook-version': 'newest', variant: 'lts', push: 'false' }, { GITHUB_REPOSITORY: '' })
        .image
    ).toBeUndefined()
  })

  it('keeps the download-url without a trailing slash and oras-url with its checksum', () => {
    const i = parse({
      'hook-version': 'v0.10.0-rc.1',
      'download-url': 'http://mirror.example/hook/',
      'oras-url': 'http://mirror.example/oras.tar.gz',
      'oras-checksum': 'A'.repeat(64)
    })
    expect(i.downloadUrl).toBe('http://mirror.example/hook')
    expect(i.oras).toEqual({
      version: '1.3.2',
      url: 'http://mirror.example/oras.tar.gz',
      checksum: 'a'.repeat(64)
    })
  })

  it.each([
    [{}, 'hook-version is required'],
    [
      { 'hook-version': '../x' },
      'hook-version "../x" is not a hook release: use a tag such as v0.11.1'
    ],
    [{ 'hook-version': '0.11.1' }, 'is not a hook release'],
    [{ 'hook-version': 'v1' }, 'is not a hook release'],
    [{ 'hook-version': 'v1.0.0', variant: 'lts;id' }, 'variant "lts;id" is not a variant name'],
    [{ 'hook-version': 'v1.0.0', variant: '$(id)' }, 'is not a variant name'],
    [{ 'hook-version': 'v1.0.0', variant: 'LTS' }, 'is not a variant name'],
    [
      { 'hook-version': 'v1.0.0', 'hook-repository': 'hook' },
      'hook-repository "hook" is not owner/name'
    ],
    [
      { 'hook-version': 'v1.0.0', 'download-url': 'ftp://x/y' },
      'download-url "ftp://x/y" must be an http:// or https:// URL'
    ],
    [{ 'hook-version': 'v1.0.0', 'download-url': 'not a url' }, 'is not a URL'],
    [{ 'hook-version': 'v1.0.0', push: 'yes' }, 'push must be true or false, got "yes"'],
    [{ 'hook-version': 'v1.0.0', latest: '1' }, 'latest must be true or false'],
    [{ 'hook-version': 'v1.0.0', 'plain-http': 'on' }, 'plain-http must be true or false'],
    [{ 'hook-version': 'v1.0.0', image: 'ghcr.io/Owner/Repo' }, 'has an invalid repository path'],
    [{ 'hook-version': 'v1.0.0', image: 'ghcr.io/owner/repo:v1' }, 'must not contain a tag'],
    [{ 'hook-version': 'v1.0.0', tags: 'ok, a/b' }, 'tag "a/b" is not a valid tag'],
    [{ 'hook-version': 'v1.0.0', tags: 'x'.repeat(129) }, 'is not a valid tag'],
    [{ 'hook-version': 'v1.0.0', tags: '-dash' }, 'is not a valid tag'],
    [
      { 'hook-version': 'v1.0.0', annotations: 'novalue' },
      'annotations line 1 "novalue" is not key=value'
    ],
    [
      { 'hook-version': 'v1.0.0', annotations: 'a=1\n=2' },
      'annotations line 2 "=2" is not key=value'
    ],
    [
      { 'hook-version': 'v1.0.0', created: 'yesterday' },
      'created "yesterday" is not an RFC 3339 time'
    ],
    [{ 'hook-version': 'v1.0.0', created: '2024-05-01' }, 'is not an RFC 3339 time'],
    [
      { 'hook-version': 'v1.0.0', 'oras-url': 'http://x/o.tar.gz' },
      'oras-url and oras-checksum go together'
    ],
    [
      { 'hook-version': 'v1.0.0', 'oras-checksum': 'ab'.repeat(32) },
      'oras-url and oras-checksum go together'
    ],
    [
      { 'hook-version': 'v1.0.0', 'oras-url': 'http://x/o', 'oras-checksum': 'xyz' },
      'oras-checksum must be the 64 hex digits'
    ],
    [
      { 'hook-version': 'v1.0.0', 'oras-version': 'latest' },
      'oras-version "latest" is not a release version'
    ],
    [
      { 'hook-version': 'v1.0.0', 'download-timeout': '-1' },
      'download-timeout "-1" is not a whole number of seconds'
    ],
    [
      { 'hook-version': 'v1.0.0', 'artifact-type': 'not a type' },
      'artifact-type "not a type" is not a media type'
    ]
  ])('refuses %j: %s', (inputs, message) => {
    expect(refusal(inputs)).toContain(message)
  })

  it('asks for an image when there is no GITHUB_REPOSITORY to default to', () => {
    expect(
      refusal({ 'hook-version': 'v1.0.0', variant: 'lts' }, { GITHUB_REPOSITORY: '' })
    ).toContain('image is empty and GITHUB_REPOSITORY is not set')
  })

  it('refuses a bad SOURCE_DATE_EPOCH', () => {
    expect(refusal({ 'hook-version': 'v1.0.0' }, { SOURCE_DATE_EPOCH: 'soon' })).toContain(
      'SOURCE_DATE_EPOCH "soon" is not a whole number'
    )
  })
})

describe('parseCreated', () => {
  it('prefers the input, then SOURCE_DATE_EPOCH, else leaves it to the content', () => {
    expect(parseCreated('2024-05-01T12:00:00+02:00', '0')).toBe('2024-05-01T12:00:00+02:00')
    expect(parseCreated('', '1714564800')).toBe('2024-05-01T12:00:00Z')
    expect(parseCreated('', '')).toBeUndefined()
  })
})
