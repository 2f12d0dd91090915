/**
 * The OpenAPI document that other clients are generated from, as a real server serves it:
 * `servers` names that server, Redocly's `recommended` ruleset finds nothing in it, and types
 * generated from it by openapi-typescript give a client the fields the official SDKs read.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { ALGORITHMS, OPERATIONS, type OperationName } from 'qpher/host';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDirs, runCli, startServer, type ServerProcess } from '../../../test/support/server.js';

/**
 * Fields a generated client must see, one line each: [operation, HTTP status, what a client reads
 * from the response body, a TypeScript type the value must be assignable to]. Required fields
 * only: an optional one would be `T | undefined` and fail the assignment.
 */
const RESPONSE_READS: [OperationName, number, string, string][] = [
  ['kem.encrypt', 200, 'data.ciphertext', 'string'],
  ['kem.encrypt', 200, 'data.key_version', 'number'],
  ['kem.encrypt', 400, 'error.code', 'string'],
  ['kem.encrypt', 400, 'error.message', 'string'],
  ['kem.encrypt', 400, 'error.error_code', 'string'],
  ['kem.encrypt', 400, 'request_id', 'string'],
  ['kem.decrypt', 200, 'data.plaintext', 'string'],
  ['signature.sign', 200, 'data.signature', 'string'],
  ['signature.sign', 200, 'data.key_version', 'number'],
  ['signature.verify', 200, 'data.valid', 'boolean'],
  ['kem.encapsulate', 200, 'data.kem_ciphertext', 'string'],
  ['kem.encapsulate', 200, 'data.shared_secret', 'string'],
  ['kem.decapsulate', 200, 'data.shared_secret', 'string'],
  ['kem.wrapKey', 200, 'data.wrapped_key', 'string'],
  ['kem.wrapKey', 200, 'data.wrapping_method', "'KEM-DEM'"],
  ['kem.unwrapKey', 200, 'data.symmetric_key', 'string'],
  ['signature.signHash', 200, 'data.signature_type', "'detached'"],
  ['signature.signHash', 200, 'data.hash_algorithm', "'SHA-256' | 'SHA-384' | 'SHA-512'"],
  ['signature.verifyHash', 200, 'data.valid', 'boolean'],
  ['kms.list', 200, 'data.keys[0].key_version', 'number'],
  // every row of the algorithm table, in its order
  ['kms.list', 200, 'data.keys[0].algorithm', ALGORITHMS.map((a) => `'${a}'`).join(' | ')],
  ['kms.list', 200, 'data.keys[0].status', "'active' | 'retired' | 'archived'"],
  ['kms.list', 200, 'data.keys[0].public_key', 'string'],
  ['kms.list', 200, 'data.keys[0].created_at', 'string'],
  ['kms.list', 200, 'data.total', 'number'],
  ['kms.list', 200, 'data.next_cursor', 'string | undefined'],
  ['kms.rotate', 200, 'data.old_key_version', 'number | null'],
  ['kms.list', 404, 'error.code', 'string'],
  ['kms.generate', 201, 'data.key_version', 'number'],
  ['kms.rotate', 200, 'data.key_version', 'number'],
  ['kms.rotate', 200, 'data.public_key', 'string'],
  ['kms.retire', 200, 'data.status', 'string'],
  ['kms.get', 200, 'data.created_at', 'string'],
];

/** What a client sends, one line each: [operation, where, field, a value it must accept]. */
/** [operation, where, field, value, path (default: the operation's own; an alias path otherwise)] */
const REQUEST_FIELDS: [OperationName, 'body' | 'query' | 'path', string, string, string?][] = [
  ['kem.encrypt', 'body', 'plaintext', "'aGVsbG8='"],
  ['kem.encrypt', 'body', 'key_version', '1'],
  ['kem.decapsulate', 'body', 'kem_ciphertext', "'AAAA'"],
  ['kem.wrapKey', 'body', 'symmetric_key', "'AAAA'"],
  ['kem.unwrapKey', 'body', 'wrapped_key', "'AAAA'"],
  ['signature.signHash', 'body', 'hash_algorithm', "'SHA-384'"],
  ['signature.verifyHash', 'body', 'hash', "'AAAA'"],
  ['kms.list', 'query', 'algorithm', "'Kyber768'"],
  ['kms.list', 'query', 'status', "'retired'"],
  ['kms.list', 'query', 'limit', '10'],
  ['kms.list', 'query', 'cursor', "'abc'"],
  ['kms.get', 'query', 'algorithm', "'Kyber768'", '/api/v1/kms/keys/{key_version}'],
  ['kms.get', 'path', 'key_version', '1', '/api/v1/kms/keys/{key_version}'],
  ['kms.get', 'path', 'key_version', '1'],
  ['kms.rotate', 'body', 'algorithm', "'Dilithium3'"],
];

const require = createRequire(import.meta.url);
const REDOCLY = join(dirname(require.resolve('@redocly/cli/package.json')), 'bin/cli.js');

const newDir = freshDirs();
let server: ServerProcess;
let doc: Record<string, any>;
let work: string;

beforeAll(async () => {
  server = await startServer(await newDir(), ['--quiet']);
  const response = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as Record<string, any>;
  work = await mkdtemp(join(tmpdir(), 'qpher-openapi-'));
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location: { pointer: string }[];
}

/** `redocly lint --extends recommended` on a document; its problems, errors and warnings alike. */
async function lint(document: unknown, name: string): Promise<LintProblem[]> {
  const file = join(work, `${name}.json`);
  await writeFile(file, JSON.stringify(document));
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // cwd: a directory without a redocly.yaml, so only the recommended rules apply.
    const proc = spawn(process.execPath, [REDOCLY, 'lint', file, '--extends', 'recommended', '--format', 'json'], {
      cwd: work,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`redocly printed no report (exit ${code}):\n${stdout}\n${stderr}`);
  const report = JSON.parse(stdout.slice(start)) as { problems: LintProblem[] };
  return report.problems;
}

const describeProblems = (problems: LintProblem[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`).join('\n');

describe('servers', () => {
  it('names the server the document was fetched from', () => {
    expect(doc.servers).toEqual([{ url: server.url }]);
  });

  it('names the configured public URL instead, given --public-url', async () => {
    const proxied = await startServer(await newDir(), ['--quiet', '--public-url', 'https://qpher.internal.test/qpher/']);
    try {
      const served = (await (await fetch(`${proxied.url}/api/v1/openapi.json`)).json()) as Record<string, any>;
      expect(served.servers).toEqual([{ url: 'https://qpher.internal.test/qpher' }]);
      expect(served.paths).toEqual(doc.paths);
    } finally {
      await proxied.stop();
    }
  });

  it('refuses a --public-url that is not a plain http(s) base URL', async () => {
    const bad = ['qpher.internal.test', 'ftp://qpher.internal.test', 'https://qpher.internal.test/?a=1', 'https://u:p@h.test'];
    const runs = await Promise.all(
      bad.map(async (url) => runCli(['serve', '--port', '0', '--data-dir', await newDir(), '--public-url', url])),
    );
    for (const [i, { code, stderr }] of runs.entries()) {
      expect(code, bad[i]).toBe(2);
      expect(stderr, bad[i]).toContain('--public-url');
    }
  });
});

describe('redocly lint, recommended rules', () => {
  it('finds no error and no warning in the served document', async () => {
    const problems = await lint(doc, 'served');
    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it('does find them in a document that breaks the rules (the check can fail)', async () => {
    const { servers: _servers, ...broken } = structuredClone(doc);
    delete broken.paths['/healthz'].get.operationId;
    const rules = (await lint(broken, 'broken')).map((p) => `${p.severity} ${p.ruleId}`);
    expect(rules).toEqual(expect.arrayContaining(['error no-empty-servers', 'warn operation-operationId']));
  });

  it('documents every error status of every operation with the shared error envelope', () => {
    const envelope = { $ref: '#/components/schemas/ErrorEnvelope' };
    for (const [name, op] of Object.entries(OPERATIONS)) {
      const responses = doc.paths[op.path][op.method.toLowerCase()].responses;
      for (const status of ['400', '401', '403', '404', '429', '500', '503']) {
        const ref: string = responses[status]?.$ref ?? '';
        const component = doc.components.responses[ref.replace('#/components/responses/', '')];
        expect(component?.content['application/json'].schema, `${name} ${status}`).toEqual(envelope);
      }
    }
    expect(doc.components.schemas.ErrorEnvelope.required).toEqual(['error', 'request_id', 'timestamp']);
  });
});

describe('types generated by openapi-typescript', () => {
  /** Compiles each named source next to the generated `api.ts`; the diagnostics of each. */
  async function compile(sources: Record<string, string>): Promise<Record<string, string[]>> {
    const generated = astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0]));
    await writeFile(join(work, 'api.ts'), generated);
    const files = Object.keys(sources).map((name) => join(work, `${name}.ts`));
    await Promise.all(Object.entries(sources).map(([name, text]) => writeFile(join(work, `${name}.ts`), HELPERS + text)));
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts'],
      types: [],
      skipLibCheck: true,
    });
    const result: Record<string, string[]> = {};
    for (const [index, name] of Object.keys(sources).entries()) {
      const file = program.getSourceFile(files[index]!);
      result[name] = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) =>
        ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      );
    }
    const apiDiagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(join(work, 'api.ts')));
    result.api = apiDiagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    return result;
  }

  const HELPERS = `import type { paths } from './api';
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Op<P extends keyof paths, M extends string> = M extends keyof paths[P] ? paths[P][M] : never;
type Body<P extends keyof paths, M extends string, S extends number> =
  Op<P, M> extends { responses: infer R } ? (S extends keyof R ? Json<R[S]> : never) : never;
type Input<P extends keyof paths, M extends string, W extends string> = W extends 'body'
  ? Op<P, M> extends { requestBody?: infer B } ? Json<NonNullable<B>> : never
  : Op<P, M> extends { parameters: infer Q } ? (W extends keyof Q ? NonNullable<Q[W]> : never) : never;
type IsAny<T> = 0 extends 1 & T ? true : false;
`;

  function readLines(rows: [OperationName, number, string, string][]): string {
    return rows
      .map(([name, status, read, type], i) => {
        const op = OPERATIONS[name];
        return [
          `declare const r${i}: Body<'${op.path}', '${op.method.toLowerCase()}', ${status}>;`,
          `const x${i} = r${i}.${read};`,
          `const v${i}: ${type} = x${i};`,
          `const a${i}: IsAny<typeof x${i}> = false;`,
          `void v${i}, a${i};`,
        ].join('\n');
      })
      .join('\n');
  }

  function sendLines(rows: [OperationName, string, string, string, string?][]): string {
    return rows
      .map(([name, where, field, value, path], i) => {
        const op = OPERATIONS[name];
        return [
          `type I${i} = Input<'${path ?? op.path}', '${op.method.toLowerCase()}', '${where}'>;`,
          `const s${i}: Partial<I${i}> = { ${field}: ${value} };`,
          `const b${i}: IsAny<I${i}> = false;`,
          `void s${i}, b${i};`,
        ].join('\n');
      })
      .join('\n');
  }

  it('give a client every field of the tables, with its type, and the compiler would notice otherwise', async () => {
    const diagnostics = await compile({
      reads: readLines(RESPONSE_READS),
      sends: sendLines(REQUEST_FIELDS),
      misspelt: readLines([['kms.list', 200, 'data.keys[0].key_versoin', 'number']]),
      mistyped: readLines([['kem.encrypt', 200, 'data.key_version', 'string']]),
      unknownStatus: readLines([['kem.encrypt', 418, 'error.code', 'string']]),
      unknownParam: sendLines([['kms.list', 'query', 'algorithmz', "'Kyber768'"]]),
    });
    expect(diagnostics.api).toEqual([]);
    expect(diagnostics.reads).toEqual([]);
    expect(diagnostics.sends).toEqual([]);
    expect(diagnostics.misspelt!.join('\n')).toContain('key_versoin');
    expect(diagnostics.mistyped!.join('\n')).toContain("Type 'number' is not assignable to type 'string'");
    expect(diagnostics.unknownStatus).not.toEqual([]);
    expect(diagnostics.unknownParam!.join('\n')).toContain('algorithmz');
    // The generated file is a plain module a client can keep: it names the shared schemas.
    const generated = await readFile(join(work, 'api.ts'), 'utf8');
    for (const schema of ['ErrorEnvelope', 'KeyInfo', 'Algorithm']) expect(generated).toContain(`${schema}: `);
  });
});
