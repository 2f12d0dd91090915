/**
 * Deep nesting is refused by a linear scan before `JSON.parse`: the scan itself (strings and
 * escapes), and a 2 MB `[[[…` body over real HTTP answered 400 in well under 50 ms of server time
 * (it used to cost ~0.5 s of event loop: parse, duplicate-key scan, then the schema's refusal).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepthScanner, exceedsDepth, MAX_JSON_DEPTH, parseJsonBody } from '../src/body.js';
import {
  createApiKey,
  expectEnvelope,
  killAll,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
} from '../../../test/support/server.js';

describe('exceedsDepth', () => {
  it('counts brackets outside strings only', () => {
    expect(exceedsDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsDepth('{"a":{"b":{"c":1}}}', 3)).toBe(false);
    expect(exceedsDepth('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    // brackets inside strings do not count, whatever the escapes around them
    expect(exceedsDepth(JSON.stringify({ a: '[[[[[[{{{{{{' }), 1)).toBe(false);
    expect(exceedsDepth(JSON.stringify({ a: '\\[[[[', b: '"[[[[' }), 1)).toBe(false);
    // an escaped backslash ends the string: the brackets after it are real
    expect(exceedsDepth('{"a":"\\\\","b":[[[]]]}', 3)).toBe(true);
    // an escaped quote does not end the string: the brackets after it are inside it
    expect(exceedsDepth('{"a":"\\"[[[[["}', 1)).toBe(false);
    // sibling containers do not add up
    expect(exceedsDepth(`[${'[],'.repeat(1000)}[]]`, 2)).toBe(false);
    // multi-byte UTF-8 inside strings is skipped like any other character
    expect(exceedsDepth('{"ключ🔥":"[[[[","b":1}', 1)).toBe(false);
  });

  it('keeps its state across chunks, an escape split from what it escapes included', () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    const scanner = new DepthScanner(1);
    expect(scanner.exceeded(enc('{"a":"\\'))).toBe(false); // ends with a backslash inside a string
    expect(scanner.exceeded(enc('"[[[[", "b":'))).toBe(false); // the quote was escaped: still in the string... until the next quote
    expect(scanner.exceeded(enc('[1]}'))).toBe(true); // depth 2 outside any string
    const other = new DepthScanner(1);
    expect(other.exceeded(enc('{"a":"x\\\\'))).toBe(false); // an escaped backslash: the string still open
    expect(other.exceeded(enc('", "b":[1]}'))).toBe(true);
  });

  it('lets parseJsonBody refuse past the bound with a clear message, and accept up to it', () => {
    const nested = (n: number) => new TextEncoder().encode(`${'['.repeat(n)}${']'.repeat(n)}`);
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1))).toThrow(`deeper than ${MAX_JSON_DEPTH} levels`);
  });
});

/** CPU time (user + system) the process has used, in ms (Linux clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The time the access log gives the request (its line may come a little after the response). */
async function loggedMs(server: ServerProcess, requestId: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const line = server
      .output()
      .split('\n')
      .find((l) => l.includes(` ${requestId}`) && / \d+\.\dms /.test(l));
    if (line) return Number(/ (\d+\.\d)ms /.exec(line)![1]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no access-log line for ${requestId}`);
}

// A `qpher serve` process of its own, so that the client's work (in this process) is not counted
// in the server's time.
describe('a 2 MB nested body over HTTP', () => {
  let dir: string;
  let server: ServerProcess;
  let key: string;
  beforeAll(async () => {
    dir = await tempDir();
    key = await createApiKey(dir, 't');
    server = await startServer(dir, ['--crypto-threads', '0']);
  });
  afterAll(async () => {
    await server?.stop();
    killAll();
    await removeDir(dir);
  });

  const cases = {
    arrays: '['.repeat(1_000_000) + ']'.repeat(1_000_000),
    objects: `${'{"a":'.repeat(349_000)}1${'}'.repeat(349_000)}`,
    // unbalanced: only opening brackets, which the parser would reject after walking all of them
    unclosed: '['.repeat(2_000_000),
  };
  for (const [name, body] of Object.entries(cases)) {
    it(`refuses ${name} with 400 in under 50 ms of server time`, async () => {
      expect(body.length).toBeGreaterThan(1_900_000);
      expect(body.length).toBeLessThanOrEqual(2 * 1024 * 1024);
      const times: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = cpuMs(server.proc.pid!);
        const response = await fetch(`${server.url}/api/v1/kem/encrypt`, {
          method: 'POST',
          headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
          body,
        });
        const reply = { status: response.status, headers: response.headers, body: await response.json() };
        cpu.push(cpuMs(server.proc.pid!) - before);
        const envelope = expectEnvelope(reply, 400, 'ERR_INVALID_001');
        expect(envelope.error.message).toBe(`Validation failed: request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
        // the access log's time is the server's: from the request's arrival to its answer
        times.push(await loggedMs(server, envelope.request_id));
      }
      // Server time: the access log's, from the request's arrival to its answer; the best of
      // three, so a busy shared machine does not decide. Before the pre-scan it was ~300-600 ms.
      expect(Math.min(...times)).toBeLessThan(50);
      // And the CPU the server spent, the background drain of the rest of the 2 MB included
      // (before: ~500 ms), which waiting for a core on a busy machine does not inflate.
      expect(Math.min(...cpu)).toBeLessThan(150);
    });
  }
});
