'use strict'
// Why this exists: @actions/http-client (ProxyAgent) and @actions/github (fetch) import undici at
// the top of their modules, so the bundle would evaluate all of undici (and load node:http2, dns,
// perf_hooks and web streams for it) at every start, though the action needs it only behind a
// proxy or for the GitHub API: 3.4 MB more peak RSS, 0.8 MiB more live heap for every
// mark-compact after, and about 20 ms of start-up (CONTRIBUTING.md).
// package.json's `overrides` resolve every `undici` to this module. Each of undici's exports is a
// getter that requires the real undici (the `undici-real` alias, same version) on first read and
// returns its value unchanged: same classes, same functions, so `new ProxyAgent(...)` and
// `instanceof` behave as with undici itself. The action's bundle leaves `undici-real` out
// (`ncc -e`); `npm run package` builds it apart into dist/node_modules/undici-real, where Node
// finds it from dist/index.js. So undici is neither run nor even read at start-up unless used:
// the action's bundle is half the size, and starts about 12 ms sooner than with undici inside.
// The list of names must equal undici's own: __tests__/unit/undici-lazy.test.ts checks it.

const names = [
  'Dispatcher',
  'Client',
  'Pool',
  'BalancedPool',
  'Agent',
  'ProxyAgent',
  'EnvHttpProxyAgent',
  'RetryAgent',
  'RetryHandler',
  'DecoratorHandler',
  'RedirectHandler',
  'createRedirectInterceptor',
  'interceptors',
  'buildConnector',
  'errors',
  'util',
  'setGlobalDispatcher',
  'getGlobalDispatcher',
  'fetch',
  'Headers',
  'Response',
  'Request',
  'FormData',
  'File',
  'FileReader',
  'setGlobalOrigin',
  'getGlobalOrigin',
  'caches',
  'deleteCookie',
  'getCookies',
  'getSetCookies',
  'setCookie',
  'parseMIMEType',
  'serializeAMimeType',
  'WebSocket',
  'CloseEvent',
  'ErrorEvent',
  'MessageEvent',
  'request',
  'stream',
  'pipeline',
  'connect',
  'upgrade',
  'MockClient',
  'MockPool',
  'MockAgent',
  'mockErrors',
  'EventSource'
]

let undici
for (const name of names) {
  Object.defineProperty(exports, name, {
    enumerable: true,
    get: () => (undici ??= require('undici-real'))[name]
  })
}

// The same names, for Node's own `import { ProxyAgent } from 'undici'` (outside the bundle):
// Node finds a CommonJS module's exports by reading its source, and cannot see getters made in
// a loop. This line never runs; it is there to be read.
/* eslint-disable no-undef, no-constant-binary-expression, @typescript-eslint/no-unused-expressions */
0 &&
  (module.exports = {
    Dispatcher,
    Client,
    Pool,
    BalancedPool,
    Agent,
    ProxyAgent,
    EnvHttpProxyAgent,
    RetryAgent,
    RetryHandler,
    DecoratorHandler,
    RedirectHandler,
    createRedirectInterceptor,
    interceptors,
    buildConnector,
    errors,
    util,
    setGlobalDispatcher,
    getGlobalDispatcher,
    fetch,
    Headers,
    Response,
    Request,
    FormData,
    File,
    FileReader,
    setGlobalOrigin,
    getGlobalOrigin,
    caches,
    deleteCookie,
    getCookies,
    getSetCookies,
    setCookie,
    parseMIMEType,
    serializeAMimeType,
    WebSocket,
    CloseEvent,
    ErrorEvent,
    MessageEvent,
    request,
    stream,
    pipeline,
    connect,
    upgrade,
    MockClient,
    MockPool,
    MockAgent,
    mockErrors,
    EventSource
  })
/* eslint-enable no-undef, no-constant-binary-expression, @typescript-eslint/no-unused-expressions */
