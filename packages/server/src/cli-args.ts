/**
 * What every `qpher` subcommand shares: strict argument parsing and the usage error (exit 2).
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad usage: the CLI prints the message and the usage text, and exits 2. */
export class UsageError extends Error {}

type ParseOptions = NonNullable<ParseArgsConfig['options']>;
/** The parsed values and positionals; spelled out so the package's declarations can name it. */
type Parsed<O extends ParseOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>>;

export function parse<O extends ParseOptions>(args: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
