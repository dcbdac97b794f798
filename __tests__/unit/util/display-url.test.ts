import { describe, expect, it } from '@jest/globals'
import { displayUrl } from '../../../src/util/display-url.js'

// Issue 17 item 9: every URL in a message or log line, without what may carry a secret.
describe('displayUrl', () => {
  it.each([
    [
      'https://me:s3cret@mirror.example:8443/hook/v1/a.tar.gz',
      'https://mirror.example:8443/hook/v1/a.tar.gz'
    ],
    ['https://mirror.example/hook?token=s3cret', 'https://mirror.example/hook'],
    ['https://mirror.example/hook#s3cret', 'https://mirror.example/hook'],
    [
      'https://u:p@bucket.example/o.tar.gz?X-Amz-Signature=s3cret#f',
      'https://bucket.example/o.tar.gz'
    ],
    ['http://127.0.0.1:80/x', 'http://127.0.0.1/x'],
    ['not a url?token=s3cret', 'not a url'],
    ['ftp://me:s3cret@host/x?y', 'ftp://host/x'],
    ['//me:s3cret@host/x?y', '//host/x']
  ])('%s shows as %s', (url, shown) => {
    expect(displayUrl(url)).toBe(shown)
  })
})
