import { run } from './main.js'
import { tuneCollections } from './util/gc.js'

tuneCollections()
// Exit explicitly: a download abandoned by its timeout would otherwise keep the process alive.
await run()
process.exit()
