/**
 * What every `qpher` subcommand shares: strict argument parsing and the usage error (exit 2).
 * @module
 */
import { parseArgs } from 'node:util';

/** Bad usage: the CLI prints the message and the usage text, and exits 2. */
export class UsageError extends Error {}

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];
export function parse<O extends ParseOptions>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
