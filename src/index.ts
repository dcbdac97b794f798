import { run } from './main.js'
import { collectAtomically } from './util/gc.js'

collectAtomically()
// Exit explicitly: a download abandoned by its timeout would otherwise keep the process alive.
await run()
process.exit()
