import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { CliIo } from './terminal.js';

/** A command's `parseArgs` options: each one listed in its `--help`, which every command has. */
type CommandOptions = NonNullable<ParseArgsConfig['options']> & {
  help: { type: 'boolean'; short: 'h' };
};

/** What {@link parseCommandArgs} parses: strict, positionals only where the command takes them. */
interface CommandArgsConfig<O extends CommandOptions, P extends boolean> {
  args: string[];
  options: O;
  strict: true;
  allowPositionals: P;
}

/** A command's parsed flags and positionals. */
export type CommandArgs<O extends CommandOptions, P extends boolean> = ReturnType<
  typeof parseArgs<CommandArgsConfig<O, P>>
>;

/**
 * Parses a command's arguments the way every command does (unknown flags are usage errors) and
 * answers `--help` by printing `help`: `undefined` then, and the command returns 0.
 * @example const args = parseCommandArgs(argv, io, { options: DOCTOR_OPTIONS, help: DOCTOR_HELP }); if (!args) return EXIT_CODES.ok;
 */
export const parseCommandArgs = <O extends CommandOptions, P extends boolean = false>(
  argv: string[],
  io: CliIo,
  command: { options: O; help: string; allowPositionals?: P },
): CommandArgs<O, P> | undefined => {
  const parsed = parseArgs<CommandArgsConfig<O, P>>({
    args: argv,
    options: command.options,
    strict: true,
    allowPositionals: (command.allowPositionals ?? false) as P,
  });
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(command.help);
    return undefined;
  }
  return parsed;
};
