import { existsSync } from 'node:fs'

// Integration tests run the built bundle and a real registry; fail fast with the fix instead
// of a hundred confusing failures.
export default async function globalSetup(): Promise<void> {
  if (!existsSync('dist/index.js')) {
    throw new Error('dist/index.js is missing: run `npm run package` (npm test does it first)')
  }
}
