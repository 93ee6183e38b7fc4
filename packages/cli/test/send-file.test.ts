import { custom, text, type MsgElement } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { appEnv, emulator, hasScript, jsonLines, ndjson, run, start, startInTerminal, tempFile, until } from './helpers';

const big = (n: number, fill = 'x') => ({ text: fill.repeat(n) });
/** Lines that pack into several calls: merges, custom elements, another sender, a size split, a line with its own Random. */
const MIXED: { text?: string; MsgBody?: MsgElement[]; From_Account?: string; Random?: number }[] = [
  { text: 'one' },
  { text: 'two' },
  { MsgBody: [custom({ Data: { kind: 'a' } })] },
  { MsgBody: [custom({ Data: { kind: 'b' } })] }, // a second custom element: a new call
  { text: 'three' },
  { MsgBody: [text('from ops')], From_Account: 'ops' }, // another sender: a new call
  big(7000),
  big(7000, 'y'), // does not fit with the one before: a new call
  { MsgBody: [text('mine')], Random: 12345 }, // its own Random: alone
  { text: 'last' },
];

describe('tim-broadcast send --file', () => {
  it('--dry-run prints the plan and sends nothing; the run then makes exactly those calls', async () => {
    const emu = await emulator({ ratePerSecond: 20 });
    const file = tempFile('mixed.ndjson', ndjson(MIXED).replace('\n', '\n\n')); // a blank line 2: numbering follows the file

    const dry = await run(['send', '--file', file, '--dry-run', '--json', '--rate', '20'], { env: appEnv(emu.url) });
    expect(dry.code).toBe(0);
    expect(emu.stats.requests).toBe(0);
    const [plan] = jsonLines(dry.stdout) as [{ broadcasts: number; calls: { call: number; firstLine: number; lastLine: number; broadcasts: number; bytes: number }[]; expectedMs: number }];
    expect(plan.broadcasts).toBe(MIXED.length);
    expect(plan.calls.map((c) => [c.firstLine, c.lastLine])).toEqual([
      [1, 4],
      [5, 6],
      [7, 7],
      [8, 8],
      [9, 9],
      [10, 10],
      [11, 11],
    ]);
    expect(plan.expectedMs).toBe((plan.calls.length - 1) * 50);

    // a dry run needs no credentials
    const human = await run(['send', '--file', file, '--dry-run']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`plan for ${file}: 10 broadcasts in 7 calls at 1 call/s, about 6.0 s (dry run: nothing is sent)`);
    expect(human.stdout).toMatch(/│ 1\s+│ 1–4\s+│ 3\s+│ \d+/);

    const sent = await run(['send', '--file', file, '--json', '--rate', '20'], { env: appEnv(emu.url) });
    expect(sent.code).toBe(0);
    const deliveries = emu.deliveries;
    expect(deliveries.map((d) => d.bytes)).toEqual(plan.calls.map((c) => c.bytes));
    const results = jsonLines(sent.stdout);
    expect(results.map((r) => r.line)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const lineNumbers = results.map((r) => r.line as number);
    plan.calls.forEach((call, i) => {
      const inCall = results.filter((r) => (r.line as number) >= call.firstLine && (r.line as number) <= call.lastLine);
      expect(inCall).toHaveLength(call.broadcasts);
      for (const r of inCall) expect(r).toEqual({ line: r.line, status: 'sent', MsgSeq: deliveries[i]!.MsgSeq, Random: deliveries[i]!.Random, batchSize: call.broadcasts });
      const expected = MIXED.filter((_, k) => lineNumbers[k]! >= call.firstLine && lineNumbers[k]! <= call.lastLine).flatMap((m): MsgElement[] =>
        typeof m.text === 'string' ? [text(m.text)] : (m.MsgBody ?? []),
      );
      expect(deliveries[i]!.body.MsgBody).toEqual(expected);
    });
    expect(deliveries[5]!.Random).toBe(12345);
    expect(deliveries[2]!.body.From_Account).toBe('ops');
  });

  it('prints a summary table; no progress bar when stderr is not a terminal', async () => {
    const emu = await emulator({ ratePerSecond: 20 });
    const file = tempFile('three.ndjson', ndjson([{ text: 'a' }, { text: 'b' }, { text: 'c' }]));
    const result = await run(['send', '--file', file, '--rate', '20'], { env: appEnv(emu.url) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/│ sent\s+│ 3 \(lines 1–3\) in 1 message\s+│/);
    expect(result.stdout).toMatch(/│ not sent\s+│ 0\s+│/);
    expect(result.stdout).toMatch(/│ calls\s+│ 1 made, 1 planned; 0 retries\s+│/);
    expect(result.stderr).toBe(`sending 3 broadcasts from ${file} in about 1 call to ${emu.url} at 20 call/s\n`);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('a bad line: exit 2, its line number and field named, nothing sent', async () => {
    const emu = await emulator();
    const file = tempFile(
      'bad.ndjson',
      [
        JSON.stringify({ text: 'fine' }),
        '',
        JSON.stringify({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 42 } }] }),
        JSON.stringify({ txt: 'typo' }),
        '{"text": "unterminated',
        JSON.stringify({ MsgBody: [custom('a'), custom('b')] }),
        JSON.stringify(big(12_001)),
        JSON.stringify({ text: 'fine too' }),
      ].join('\n'),
    );
    const result = await run(['send', '--file', file], { env: appEnv(emu.url) });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}: 5 bad line(s); nothing was sent`);
    expect(result.stderr).toMatch(/line 3: MsgBody\[0\]\.MsgContent\.Text: /);
    expect(result.stderr).toContain(`line 4: txt: unknown field (did you mean 'text'?)`);
    expect(result.stderr).toMatch(/line 5: not JSON/);
    expect(result.stderr).toMatch(/line 6: MsgBody\[1\]\.MsgType: a message may hold at most one TIMCustomElem/);
    expect(result.stderr).toMatch(/line 7: text: MsgBody is \d+ bytes; the limit is 12000 bytes/);
    expect(result.stderr).not.toMatch(/line [128]:/);
    expect(emu.stats.requests).toBe(0);
  });

  it('an empty or missing file is a usage error', async () => {
    const emu = await emulator();
    const empty = await run(['send', '--file', tempFile('empty.ndjson', '\n  \n')], { env: appEnv(emu.url) });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no broadcasts');
    const missing = await run(['send', '--file', '/nonexistent/file.ndjson'], { env: appEnv(emu.url) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read "/nonexistent/file.ndjson" (ENOENT)');
    expect(emu.stats.requests).toBe(0);
  });

  it('reads standard input with --file -', async () => {
    const emu = await emulator({ ratePerSecond: 20 });
    const result = await run(['send', '--file', '-', '--json', '--rate', '20'], { env: appEnv(emu.url), stdin: ndjson([{ text: 'from' }, { text: 'stdin' }]) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('from standard input');
    expect(emu.deliveries.map((d) => d.body.MsgBody)).toEqual([[text('from'), text('stdin')]]);
    expect(jsonLines(result.stdout).map((r) => [r.line, r.status, r.batchSize])).toEqual([
      [1, 'sent', 2],
      [2, 'sent', 2],
    ]);
  });

  it('--json: a failed call gives each of its lines the error and its code; exit 1', async () => {
    const emu = await emulator({ broadcastEnabled: false });
    const file = tempFile('two.ndjson', ndjson([{ text: 'a' }, { MsgBody: [custom('c')] }, { MsgBody: [custom('d')] }]));
    const result = await run(['send', '--file', file, '--json', '--rate', '20'], { env: appEnv(emu.url) });
    expect(result.code).toBe(1);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(3);
    for (const [i, l] of lines.entries()) {
      expect(l).toEqual({ line: i + 1, status: 'failed', error: { name: 'ApiError', code: 10007, message: expect.stringContaining('10007') } });
    }
    // with --json the summary goes to stderr
    expect(result.stderr).toMatch(/│ failed\s+│ 3 \(lines 1–3\)/);
    expect(result.stderr).toMatch(/lines 1–3: ApiError: Tencent Cloud Chat error 10007/);
  });

  it('SIGINT in the middle: the call in flight finishes, waiting lines are not sent, the report matches the deliveries', async () => {
    // 1 call/s, one custom element per line: six calls; the second is answered slowly, so it is in flight for 6 s
    const emu = await emulator({ ratePerSecond: 1 });
    emu.setFaults({ script: ['none', 'slow'], slowMs: 6000 });
    const file = tempFile('six.ndjson', ndjson([1, 2, 3, 4, 5, 6].map((n) => ({ MsgBody: [custom(`c${n}`)] }))));
    const cli = start(['send', '--file', file, '--json'], { env: appEnv(emu.url) });
    await until(() => emu.deliveries.length === 2, 'the second call to arrive');
    cli.child.kill('SIGINT');
    const result = await cli.exited;

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SIGINT: stopped; 4 lines will not be sent. Waiting for the call in flight (line 2) to finish');
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => [l.line, l.status])).toEqual([
      [1, 'sent'],
      [2, 'sent'],
      [3, 'not-sent'],
      [4, 'not-sent'],
      [5, 'not-sent'],
      [6, 'not-sent'],
    ]);
    const deliveries = emu.deliveries;
    expect(deliveries.map((d) => d.MsgSeq)).toEqual([lines[0]!.MsgSeq, lines[1]!.MsgSeq]);
    expect(deliveries.map((d) => d.body.MsgBody)).toEqual([[custom('c1')], [custom('c2')]]);
    expect(result.stderr).toMatch(/│ sent\s+│ 2 \(lines 1–2\) in 2 messages/);
    expect(result.stderr).toMatch(/│ not sent\s+│ 4 \(lines 3–6\): interrupted/);
  });

  it('a second SIGINT exits at once, naming the lines in flight', async () => {
    const emu = await emulator({ ratePerSecond: 1 });
    emu.setFaults({ script: ['slow'], slowMs: 10_000 });
    const file = tempFile('three.ndjson', ndjson([1, 2, 3].map((n) => ({ MsgBody: [custom(`c${n}`)] }))));
    const cli = start(['send', '--file', file], { env: appEnv(emu.url) });
    await until(() => emu.deliveries.length === 1, 'the first call to arrive');
    cli.child.kill('SIGINT');
    await cli.waitFor((o) => o.stderr.includes('Waiting for the call in flight'), 'the first interrupt to be handled');
    cli.child.kill('SIGINT');
    const result = await cli.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SIGINT again: exiting now. Line 1 was in flight and may or may not have been delivered.');
    expect(emu.deliveries).toHaveLength(1);
  });

  it.skipIf(!hasScript)('draws a progress bar on a terminal', async () => {
    const emu = await emulator({ ratePerSecond: 20 });
    const file = tempFile('four.ndjson', ndjson([1, 2, 3, 4].map((n) => ({ MsgBody: [custom(`c${n}`)] }))));
    const result = await startInTerminal(['send', '--file', file, '--rate', '20'], { env: appEnv(emu.url) }).exited;
    expect(result.code).toBe(0);
    // stdout and stderr share the terminal
    expect(result.stdout).toMatch(/sending [█░]+ 0\/4 lines \| 0 calls \| 0 failed/);
    expect(result.stdout).toMatch(/sending █+ 4\/4 lines \| 4 calls \| 0 failed/);
    expect(result.stdout).toMatch(/│ sent\s+│ 4 \(lines 1–4\) in 4 messages/);
    expect(emu.deliveries).toHaveLength(4);
  });
});
