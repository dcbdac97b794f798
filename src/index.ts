import { run } from './main.js'

// Exit explicitly: a download abandoned by its timeout would otherwise keep the process alive.
await run()
process.exit()
