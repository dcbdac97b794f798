import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../../src/util/errors.js'
import { parseCreated } from '../../../src/inputs/created.js'
import { DEFAULT_ORAS_VERSION, parseInputs, type Inputs } from '../../../src/inputs/inputs.js'

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
      iso: false,
      plainHttp: false,
      artifactType: 'application/vnd.tinkerbell.hook.os.v1+tar',
      oras: { version: DEFAULT_ORAS_VERSION },
      downloadTimeoutMs: 900_000,
      created: undefined,
      format: 'artifact'
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
      version: DEFAULT_ORAS_VERSION,
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
    [{ 'hook-version': 'v1.0.0', iso: 'yes' }, 'iso must be true or false'],
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
      { 'hook-version': 'v1.0.0', 'oras-version': '1.2.3' },
      'oras-version 1.2.3 is too old: the action needs 1.3.0 or newer (`manifest index create` came in 1.3.0, `--format json` in 1.2.0); use 1.3.4, the default'
    ],
    [
      { 'hook-version': 'v1.0.0', 'download-timeout': '-1' },
      'download-timeout "-1" is not a whole number of seconds'
    ],
    [
      { 'hook-version': 'v1.0.0', 'artifact-type': 'not a type' },
      'artifact-type "not a type" is not a media type'
    ],
    [
      { 'hook-version': 'v1.0.0', format: 'oci' },
      'format "oci" is not a bundle format: use artifact (an OCI artifact for oras pull) or image'
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

// Issue 10 item 4: every value below used to pass parseInputs and fail (or be misread) later,
// after the downloads, or never fail at all.
describe('parseInputs refuses up front what would fail or be misread later', () => {
  const v = { 'hook-version': 'v1.0.0' }

  it('refuses a download-timeout longer than a Node timer can wait', () => {
    expect(parse({ ...v, 'download-timeout': '2147483' }).downloadTimeoutMs).toBe(2_147_483_000)
    expect(refusal({ ...v, 'download-timeout': '2147484' })).toBe(
      'download-timeout 2147484 is more than 2147483 seconds (about 24 days), the longest a timer can wait: give fewer seconds, or 0 for no limit'
    )
    expect(refusal({ ...v, 'download-timeout': '99999999999999999999999' })).toContain(
      'is more than 2147483 seconds'
    )
  })

  it.each([
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-01-01t00:00:00Z',
    '2024-01-01T00:00:00z',
    '2024-01-01 00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T00:60:00Z',
    '2024-01-01T00:00:60Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-1-01T00:00:00Z',
    '24-01-01T00:00:00Z',
    '+2024-01-01T00:00:00Z',
    '2024-01-01T00:00:00',
    '2024-01-01T00:00:00+0100',
    '2024-01-01T00:00:00+25:00',
    '2024-01-01T00:00:00+01:61',
    '2024-01-01T00:00:00.Z',
    '2024-01-01T00:00:00ZZ',
    '2024-01-01T001:00:00Z'
  ])('refuses created %j, as oras (Go time.Parse RFC3339) would after the downloads', created => {
    expect(refusal({ ...v, created })).toMatch(
      /^created ".*" is not an RFC 3339 time as oras reads it/
    )
  })

  it.each([
    '2024-05-01T12:00:00Z',
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:59Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-05-01T12:00:00.123456789012Z',
    '2024-05-01T12:00:00,5Z',
    '2024-05-01T1:00:00Z',
    '2024-05-01T12:00:00+02:00',
    '2024-05-01T12:00:00-24:00',
    '2024-05-01T12:00:00+23:60'
  ])('accepts created %j exactly as oras does', created => {
    expect(parse({ ...v, created }).created).toBe(created)
  })

  it.each([
    ['2024-05-01T1:00:00Z', 'created'],
    ['2024-05-01T12:00:00,5Z', 'created'],
    ['2024-05-01T12:00:00-24:00', 'created'],
    ['2024-05-01T12:00:00+23:60', 'annotations']
  ])(
    'with format image, refuses %j (%s), which containerd cannot read in the config',
    (t, where) => {
      const inputs =
        where === 'created'
          ? { ...v, format: 'image', created: t }
          : { ...v, format: 'image', annotations: `org.opencontainers.image.created=${t}` }
      expect(refusal(inputs)).toContain(
        `${JSON.stringify(t)} is read by oras but not by containerd, which reads the image config's created as strict RFC 3339 (format: image)`
      )
      expect(parse({ ...inputs, format: 'artifact' }).format).toBe('artifact')
      expect(parse({ ...v, format: 'image', created: '2024-05-01T12:00:00.5+23:59' }).created).toBe(
        '2024-05-01T12:00:00.5+23:59'
      )
    }
  )

  it('refuses an org.opencontainers.image.created annotation that oras would refuse', () => {
    expect(
      refusal({
        ...v,
        annotations: 'org.example=1\norg.opencontainers.image.created=2024-02-30T00:00:00Z'
      })
    ).toMatch(
      /^annotations: org\.opencontainers\.image\.created "2024-02-30T00:00:00Z" is not an RFC 3339 time as oras reads it/
    )
    expect(
      parse({ ...v, annotations: 'org.opencontainers.image.created=2024-02-29T00:00:00+01:00' })
        .annotations
    ).toEqual({ 'org.opencontainers.image.created': '2024-02-29T00:00:00+01:00' })
  })

  it('refuses a SOURCE_DATE_EPOCH past the year 9999, which oras cannot read back', () => {
    expect(parse(v, { SOURCE_DATE_EPOCH: '253402300799' }).created).toBe('9999-12-31T23:59:59Z')
    expect(refusal(v, { SOURCE_DATE_EPOCH: '253402300800' })).toBe(
      'SOURCE_DATE_EPOCH 253402300800 is after 9999-12-31T23:59:59Z (253402300799), the last time RFC 3339 can write: give a smaller number of seconds since 1970'
    )
    expect(refusal(v, { SOURCE_DATE_EPOCH: '9'.repeat(30) })).toContain('is after 9999-12-31')
  })

  it.each([
    ['oci-layout:./out@v1', '"@"'],
    ['oci-layout:/srv/oci@sha256:abc', '"@"'],
    ['oci-layout:./a:b', '":"'],
    ['oci-layout:/srv/a,b', '","']
  ])('refuses image %j, whose directory oras would split into a reference', (image, what) => {
    const dir = image.slice('oci-layout:'.length)
    const where = path.isAbsolute(dir)
      ? ''
      : ` (absolute path ${JSON.stringify(path.resolve(dir))})`
    expect(refusal({ ...v, variant: 'lts', image })).toBe(
      `image ${JSON.stringify(image)} names a directory${where} with ${what}, which oras reads as a tag list, tag or digest separator: choose a directory whose absolute path has no ",", ":" or "@"`
    )
  })

  it('refuses a relative layout directory below a working directory with "@", ":" or ","', () => {
    const cwd = process.cwd()
    const odd = mkdtempSync(path.join(os.tmpdir(), 'hook-at@-'))
    try {
      process.chdir(odd)
      expect(refusal({ ...v, variant: 'lts', image: 'oci-layout:layout' })).toBe(
        `image "oci-layout:layout" names a directory (absolute path ${JSON.stringify(path.join(process.cwd(), 'layout'))}) with "@", which oras reads as a tag list, tag or digest separator: choose a directory whose absolute path has no ",", ":" or "@"`
      )
    } finally {
      process.chdir(cwd)
      rmSync(odd, { recursive: true })
    }
  })

  it.each([
    ['http://mirror.example/hook?token=x', 'a query string'],
    ['http://mirror.example/hook#frag', 'a fragment'],
    ['http://mirror.example/hook?', 'a query string']
  ])('refuses download-url %j with %s, shown without it', (url, what) => {
    expect(refusal({ ...v, 'download-url': url })).toBe(
      `download-url "http://mirror.example/hook" has ${what} (not shown): assets are fetched from <download-url>/<tag>/<asset>, so give a base URL without "?" or "#"`
    )
  })

  it('strips user:password@ from download-url into a Basic authorization, and lists what to mask', () => {
    const i = parse({ ...v, 'download-url': 'https://me%40corp:p%3Ass@mirror.example/hook/' })
    expect(i.downloadUrl).toBe('https://mirror.example/hook')
    const basic = Buffer.from('me@corp:p:ss').toString('base64')
    expect(i.downloadAuthorization).toBe(`Basic ${basic}`)
    expect(i.secrets).toEqual(
      expect.arrayContaining(['me@corp', 'p:ss', 'me%40corp', 'p%3Ass', basic])
    )
    expect(parse(v).downloadAuthorization).toBeUndefined()
  })

  it('never prints download-url credentials in its own refusals', () => {
    const message = refusal({ ...v, 'download-url': 'https://me:s3cret@mirror.example/x?y' })
    expect(message).not.toContain('s3cret')
    expect(message).not.toContain('me:')
    expect(message).toContain('"https://mirror.example/x"')
    expect(message).not.toContain('?y')
  })
})
