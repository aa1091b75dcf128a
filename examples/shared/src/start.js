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
