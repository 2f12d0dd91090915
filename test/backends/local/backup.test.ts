/**
 * `q.kms.exportKeys` / `q.kms.importKeys` through the facade on the in-process local backend:
 * a backup made by one backend restores into another (a different wrapping key, a different
 * store) and the restored keys decrypt and verify what the first one made; a wrong passphrase
 * or a changed byte is one 400 that writes nothing. The import rules themselves are
 * test/engine/key-import.test.ts; the format is test/crypto/backup.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LocalBackend } from '../../../src/backends/local/index.js';
import { BACKUP_OPEN_FAILED } from '../../../src/crypto/backup.js';
import { Engine } from '../../../src/engine/engine.js';
import { unwrap } from '../../../src/errors.js';
import { Qpher } from '../../../src/qpher.js';
import type { KeyStore } from '../../../src/stores/keystore.js';
import { MemoryKeyStore } from '../../../src/stores/memory.js';

const FAST = { memoryKiB: 64, passes: 1, parallelism: 1 };
const PASSPHRASE = 'correct horse battery staple, but longer';

function local(): Qpher {
  return new Qpher({ backend: new LocalBackend({ backupKdf: FAST }) });
}

describe('kms.export / kms.import on the local backend (in-process)', () => {
  it('a backup moves every version to another engine, which decrypts and verifies what the first one made', async () => {
    const a = local();
    unwrap(await a.kms.generate({ algorithm: 'Kyber768' }));
    const { ciphertext } = unwrap(await a.kem.encrypt({ plaintext: btoa('old secret'), key_version: 1 }));
    unwrap(await a.kms.rotate({ algorithm: 'Kyber768' }));
    unwrap(await a.kms.generate({ algorithm: 'Dilithium3' }));
    const { signature } = unwrap(await a.signature.sign({ message: btoa('signed'), key_version: 1 }));

    const exported = unwrap(await a.kms.exportKeys({ passphrase: PASSPHRASE }));
    expect(exported.keys).toBe(3);
    expect(exported.backup).toMatch(/^UVBIRVJCQUsB/); // "QPHERBAK" ‖ 0x01

    const b = local();
    const imported = unwrap(await b.kms.importKeys({ backup: exported.backup, passphrase: PASSPHRASE }));
    expect(imported).toEqual({
      imported: [
        { algorithm: 'Kyber768', key_version: 1, status: 'retired' },
        { algorithm: 'Kyber768', key_version: 2, status: 'active' },
        { algorithm: 'Dilithium3', key_version: 1, status: 'active' },
      ],
      skipped: [],
    });
    expect(unwrap(await b.kem.decrypt({ ciphertext, key_version: 1 })).plaintext).toBe(btoa('old secret'));
    expect(unwrap(await b.signature.verify({ message: btoa('signed'), signature, key_version: 1 })).valid).toBe(true);
    expect(unwrap(await b.kms.list()).keys).toEqual(unwrap(await a.kms.list()).keys);

    // Again: every version is already there, identical.
    const again = unwrap(await b.kms.importKeys({ backup: exported.backup, passphrase: PASSPHRASE }));
    expect(again.imported).toEqual([]);
    expect(again.skipped.map((k) => k.key_version)).toEqual([1, 2, 1]);

    // One algorithm only.
    const dsa = unwrap(await a.kms.exportKeys({ passphrase: PASSPHRASE, algorithm: 'Dilithium3' }));
    expect(dsa.keys).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('the hybrids travel too: X-Wing and Composite-ML-DSA keys restored elsewhere decrypt and verify what the first engine made', async () => {
    const a = local();
    unwrap(await a.kms.generate({ algorithm: 'X-Wing' }));
    const { ciphertext } = unwrap(await a.kem.encrypt({ algorithm: 'X-Wing', plaintext: btoa('hybrid secret'), key_version: 1 }));
    unwrap(await a.kms.rotate({ algorithm: 'X-Wing' }));
    unwrap(await a.kms.generate({ algorithm: 'Composite-ML-DSA' }));
    const message = btoa('signed twice');
    const { signature } = unwrap(await a.signature.sign({ algorithm: 'Composite-ML-DSA', message, key_version: 1 }));

    const exported = unwrap(await a.kms.exportKeys({ passphrase: PASSPHRASE }));
    expect(exported.keys).toBe(3);
    const b = local();
    expect(unwrap(await b.kms.importKeys({ backup: exported.backup, passphrase: PASSPHRASE })).imported).toEqual([
      { algorithm: 'X-Wing', key_version: 1, status: 'retired' },
      { algorithm: 'X-Wing', key_version: 2, status: 'active' },
      { algorithm: 'Composite-ML-DSA', key_version: 1, status: 'active' },
    ]);
    expect(unwrap(await b.kem.decrypt({ algorithm: 'X-Wing', ciphertext, key_version: 1 })).plaintext).toBe(btoa('hybrid secret'));
    expect(unwrap(await b.signature.verify({ algorithm: 'Composite-ML-DSA', message, signature, key_version: 1 })).valid).toBe(true);
    // And b signs with the restored composite seed what a verifies with its own key.
    const again = unwrap(await b.signature.sign({ algorithm: 'Composite-ML-DSA', message, key_version: 1 }));
    expect(
      unwrap(await a.signature.verify({ algorithm: 'Composite-ML-DSA', message, signature: again.signature, key_version: 1 })).valid,
    ).toBe(true);
    const xwingOnly = unwrap(await a.kms.exportKeys({ passphrase: PASSPHRASE, algorithm: 'X-Wing' }));
    expect(xwingOnly.keys).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  it('a wrong passphrase and a changed byte are the same 400, and nothing is written', async () => {
    const a = local();
    unwrap(await a.kms.generate({ algorithm: 'Kyber768' }));
    const { backup } = unwrap(await a.kms.exportKeys({ passphrase: PASSPHRASE }));
    const b = local();
    const wrong = await b.kms.importKeys({ backup, passphrase: `${PASSPHRASE}!` });
    expect(wrong).toMatchObject({ error: { code: 'ERR_INVALID_001', message: BACKUP_OPEN_FAILED } });
    const bytes = Uint8Array.from(atob(backup), (c) => c.charCodeAt(0));
    bytes[bytes.length - 20]! ^= 1;
    const changed = btoa(String.fromCharCode(...bytes));
    expect(await b.kms.importKeys({ backup: changed, passphrase: PASSPHRASE })).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: BACKUP_OPEN_FAILED },
    });
    expect(unwrap(await b.kms.list()).total).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses bad requests by field', async () => {
    const q = local();
    expect(await q.kms.exportKeys({ passphrase: '' })).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: passphrase must not be empty' },
    });
    expect(await q.kms.exportKeys({ passphrase: 'x', algorithm: 'RSA' as never })).toMatchObject({
      error: {
        code: 'ERR_INVALID_001',
        message: 'Validation failed: algorithm must be one of "Kyber768", "Dilithium3", "X-Wing", "Composite-ML-DSA"',
      },
    });
    expect(await q.kms.importKeys({ backup: 'bm90IGEgYmFja3Vw', passphrase: 'x' })).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Backup could not be opened: not a Qpher key backup' },
    });
    expect(await q.kms.importKeys({ passphrase: 'x' } as never)).toMatchObject({
      error: { code: 'ERR_INVALID_001', message: 'Validation failed: backup is required' },
    });
    await q.close();
  });
});

describe('a persistent store brings its own wrapping key', () => {
  const persistent: KeyStore = {
    get: async () => undefined,
    active: async () => undefined,
    list: async () => ({ keys: [], total: 0 }),
    update: async () => undefined as never,
  };

  it('LocalBackend and Engine.create refuse a store without wrapper, wrappingKey() or ephemeral, naming the option', async () => {
    expect(() => new LocalBackend({ store: persistent })).toThrow(/"wrapper" option is required/);
    await expect(Engine.create({ store: persistent })).rejects.toThrow(TypeError);
    expect(() => new LocalBackend({ store: new MemoryKeyStore() })).not.toThrow();
  });

  it("a store's wrappingKey() wraps the seeds, so a second engine over the same store reads them", async () => {
    const memory = new MemoryKeyStore();
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const store: KeyStore = {
      get: (t, a, v) => memory.get(t, a, v),
      active: (t, a) => memory.active(t, a),
      list: (t, a, query) => memory.list(t, a, query),
      update: (t, a, change, target) => memory.update(t, a, change, target),
      wrappingKey: async () => key,
    };
    const first = new Qpher({ backend: new LocalBackend({ store }) });
    unwrap(await first.kms.generate({ algorithm: 'Kyber768' }));
    const { ciphertext } = unwrap(await first.kem.encrypt({ plaintext: btoa('kept'), key_version: 1 }));
    const second = new Qpher({ backend: new LocalBackend({ store }) });
    expect(unwrap(await second.kem.decrypt({ ciphertext, key_version: 1 })).plaintext).toBe(btoa('kept'));
  });
});
