/**
 * The sizes a key backup request may have, apart from src/crypto/backup.ts so that the request
 * schemas (in the Worker chunk) can check them without carrying Argon2id and the format, which
 * the engine loads only when a backup is made or opened.
 * @module
 */

/** Largest backup, in bytes before base64 (about 2,000 Dilithium3 or 3,000 Kyber768 versions). */
export const MAX_BACKUP_BYTES = 4 * 1024 * 1024;
/** Longest passphrase, in UTF-16 code units; there is no minimum here (that is the caller's policy). */
export const MAX_PASSPHRASE_LENGTH = 1024;
