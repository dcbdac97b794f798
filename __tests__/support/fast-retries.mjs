// Preloaded (NODE_OPTIONS=--import) into the action under test. @actions/tool-cache 4 reads its
// retry backoff overrides from globalThis, not from the environment, so a child process can only
// shorten the 10-20 s backoff this way. The action reads its own test knobs the same way (the
// stall limit and connect timeout of src/download/download.ts), so no variable of a workflow's
// environment can change them. The action itself knows nothing of this file.
for (const key of [
  'TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS',
  'TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS',
  'TEST_HOOK_BUNDLE_STALL_SECONDS',
  'TEST_HOOK_BUNDLE_CONNECT_SECONDS'
]) {
  if (process.env[key] !== undefined) globalThis[key] = Number(process.env[key])
}
