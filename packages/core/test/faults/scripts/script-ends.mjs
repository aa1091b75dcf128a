// Case g: a script that tracks and then simply ends, as scripts and jobs do: no close(), no
// signal, nothing of its own left to do. The client's `closeOnExit` (default on) must deliver the
// events, or count and report them, before the process ends; the result is printed at `exit`,
// when everything the process will ever do is done.
import { startClient } from './fault-client.mjs';

const { trackAll, report } = startClient();
process.on('exit', () => report({ atExit: true }));
trackAll();
