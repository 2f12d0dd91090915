/**
 * Backup and restore: `kms.exportKeys` downloads the backup as a file, `kms.importKeys` restores
 * one chosen from disk (docs/backup.md). The seeds stay in the backend (the Worker, or the
 * server); the page only ever holds the encrypted backup.
 * @module
 */
import { Panel, type PlaygroundContext } from '../panel.js';

export function mountBackupPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'backup');
  const form = panel.element<HTMLFormElement>('form');
  const passphrase = () => panel.field('passphrase').value;

  panel.onSubmit(form, () =>
    panel.call(
      'kms.export',
      (q) => q.kms.exportKeys({ passphrase: passphrase() }),
      ({ backup, keys }) => {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([`${backup}\n`], { type: 'text/plain' }));
        link.download = `qpher-keys-${new Date().toISOString().slice(0, 10)}.qpherbak`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
        return `Downloaded a backup of ${keys} key version${keys === 1 ? '' : 's'} (${link.download}).`;
      },
    ),
  );

  panel.element<HTMLButtonElement>('button[name="import"]').addEventListener('click', () => {
    const file = panel.element<HTMLInputElement>('input[type="file"]').files?.[0];
    void panel.exclusive(() =>
      panel.call(
        'kms.import',
        async (q) => q.kms.importKeys({ backup: file ? (await file.text()).trim() : '', passphrase: passphrase() }),
        ({ imported, skipped }) =>
          `Imported ${imported.length} key version${imported.length === 1 ? '' : 's'}, ${skipped.length} already present. Press List in Keys to see them.`,
      ),
    );
  });
}
