// @ts-check
// For the examples' Node.js start scripts only, apart from the index: it ends the process, which
// Next's Edge build of a route flags when it can reach it (the Next example's Edge route imports
// the index).
import { missingEnvMessage } from './env.js';

/**
 * Ends the process with exit code 2 and {@link missingEnvMessage}'s line on stderr when a required
 * variable is missing; returns otherwise. For the examples' start scripts, before anything starts.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @param {string} framework
 */
export function exitIfEnvMissing(env, framework) {
  const message = missingEnvMessage(env, framework);
  if (message === undefined) return;
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** What capi-kit's own option checks throw: `createCapi`'s and `tiktok()`'s messages. */
const CONFIG_ERROR = /^(?:createCapi:|tiktok\(options\):|TikTok )/;

/**
 * Ends the process with one line on stderr, no stack trace, when the example could not start for
 * a reason the user fixes: capi-kit refused a variable's value (exit 2, like a missing one; its
 * message names the option and never quotes a token), or the port is taken, not allowed or not a
 * port (exit 1). Anything else is a bug and is thrown on, stack and all.
 * @param {unknown} error what `start()` rejected with
 * @param {string} framework e.g. `Express`
 * @param {string} [command] what runs it again, e.g. `npm run demo`
 * @returns {never}
 */
export function exitOnStartFailure(error, framework, command = 'npm start') {
  const prefix = `capi-kit ${framework} example:`;
  const { code, port, message } =
    /** @type {{ code?: unknown, port?: unknown, message?: unknown }} */ (error ?? {});
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} is taken (another example or app listening on it?)`
        : `not allowed to listen on port ${port}`;
    process.stderr.write(
      `${prefix} ${why}. Stop what uses it, or start on another port: PORT=3001 ${command}.\n`,
    );
    process.exit(1);
  }
  if (code === 'ERR_SOCKET_BAD_PORT') {
    process.stderr.write(
      `${prefix} PORT must be a port number from 0 to 65535. Set another one: PORT=3001 ${command}.\n`,
    );
    process.exit(1);
  }
  if (
    (error instanceof TypeError || error instanceof RangeError) &&
    typeof message === 'string' &&
    CONFIG_ERROR.test(message)
  ) {
    process.stderr.write(
      `${prefix} capi-kit refused its configuration: ${message.replace(/\.$/, '')}. Check META_PIXEL_ID, ` +
        'META_ACCESS_TOKEN, META_GRAPH_URL and the TIKTOK_* variables (npx capi-kit-mock prints ' +
        `working ones), and run ${command} again.\n`,
    );
    process.exit(2);
  }
  throw error;
}
