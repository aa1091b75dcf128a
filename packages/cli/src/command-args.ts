import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, EXIT_CODES } from './exit-codes.js';
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
  let parsed: CommandArgs<O, P>;
  try {
    parsed = parseArgs<CommandArgsConfig<O, P>>({
      args: argv,
      options: command.options,
      strict: true,
      allowPositionals: (command.allowPositionals ?? false) as P,
    });
  } catch (error) {
    throw unknownOption(error, Object.keys(command.options)) ?? error;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(command.help);
    return undefined;
  }
  return parsed;
};

/** Edit distance between two short strings (insertions, deletions, substitutions). */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
};

/**
 * `Unknown option --dry-rn (did you mean --dry-run?)` for a mistyped flag. Node's own message
 * advises placing it after `--` as a positional, which no command wants.
 */
const unknownOption = (error: unknown, names: readonly string[]): CliError | undefined => {
  if ((error as { code?: unknown })?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const given = /Unknown option '([^']*)'/.exec((error as Error).message)?.[1];
  if (given === undefined) return undefined;
  const bare = given.replace(/^-+/, '').toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = distance(bare, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  const hint = best === undefined ? '' : ` (did you mean --${best}?)`;
  return new CliError(`Unknown option ${given}${hint}.`, EXIT_CODES.usage);
};
