/**
 * The passphrase of a key backup for the CLI: `QPHER_BACKUP_PASSPHRASE`, or typed on a terminal
 * without echo (twice when it protects a new backup). Never from an argument: arguments are
 * visible to every user of the machine in the process list.
 * @module
 */
import { StartupError } from './master-key.js';

export const PASSPHRASE_ENV = 'QPHER_BACKUP_PASSPHRASE';

export async function readPassphrase(env: NodeJS.ProcessEnv, options: { confirm: boolean }): Promise<string> {
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new StartupError(`No passphrase: set ${PASSPHRASE_ENV}, or run this on a terminal to be asked for it`);
  }
  const first = await promptHidden('Backup passphrase: ');
  if (first === '') throw new StartupError('The passphrase must not be empty');
  if (options.confirm && (await promptHidden('Repeat the passphrase: ')) !== first) {
    throw new StartupError('The two passphrases differ; nothing was written');
  }
  return first;
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new StartupError('Interrupted'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
