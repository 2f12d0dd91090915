/**
 * Backup and restore: `kms.exportKeys` downloads the backup as a file, `kms.importKeys` restores
 * one chosen from disk (docs/backup.md). The seeds stay in the backend (the Worker, or the
 * server); the page only ever holds the encrypted backup.
 *
 * Beside the buttons, whether the keys themselves are safe from eviction: on the local backend the
 * answer of `navigator.storage.persist()` that LocalBackend asked for (`info().persisted`), since a
 * browser that did not grant it may clear the IndexedDB under storage pressure, and then a backup
 * is the only copy.
 * @module
 */
import { Panel, type PlaygroundContext } from '../panel.js';

export function mountBackupPanel(context: PlaygroundContext): void {
  const panel = new Panel(context, 'backup');
  const form = panel.element<HTMLFormElement>('form');
  const passphrase = () => panel.field('passphrase').value;
  const storage = panel.element('#backup-storage');

  context.events.on('backend', ({ current }) => {
    if (current?.kind !== 'local' || !context.state.local) {
      storage.textContent = current
        ? `Key storage: on the server (${current.name}); its operator backs it up.`
        : 'Key storage: no backend yet.';
      return;
    }
    const mine = context.state.generation;
    storage.textContent = 'Key storage: this browser’s IndexedDB (asking whether it is persistent…)';
    void context.state.local.backend.info().then((info) => {
      if (mine !== context.state.generation) return;
      storage.dataset.persisted = String(info.persisted);
      storage.textContent =
        info.persisted === true
          ? 'Key storage: this browser’s IndexedDB, persistent (the browser granted navigator.storage.persist(): it will not evict the keys on its own).'
          : 'Key storage: this browser’s IndexedDB, not persistent (navigator.storage.persist() was not granted): the browser may evict the keys under storage pressure. Keep a backup.';
    });
  });

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
