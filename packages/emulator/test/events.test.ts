// The dashboard's event stream, read with a plain HTTP client: a snapshot first, then an event per call and change.
import { request, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_CLIENTS } from '../src/dashboard/events';
import { sample, send, start, textBody, userSig } from './helpers';

interface Stream {
  res: IncomingMessage;
  events: { type: string; data: any }[];
  close(): void;
}

function listen(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/__emulator/events`, { agent: false }, (res) => {
      const events: Stream['events'] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) });
        }
      });
      resolve({ res, events, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard events (Server-Sent Events)', () => {
  it('sends a snapshot with past deliveries, then each call, settings change and reset, never a UserSig', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    await send(emu, { body: sample() });
    const stream = await listen(emu.url);
    try {
      expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      await expect.poll(() => stream.events.length).toBe(1);
      const [snapshot] = stream.events;
      expect(snapshot!.type).toBe('snapshot');
      expect(snapshot!.data).toMatchObject({
        app: { sdkAppId: 1400000000, admin: 'administrator' },
        deliveries: [{ MsgSeq: 1, body: sample(), batchSize: 1 }],
        stats: { accepted: 1 },
        config: { broadcastEnabled: true, ratePerSecond: null, rateModel: 'window' },
        faults: { rate: 0 },
      });

      await send(emu, { body: textBody('two', 2), headers: { 'x-tim-broadcast-batch-size': '2' } });
      await send(emu, { body: textBody('two', 2) });
      emu.setFaults({ script: ['http502'] });
      await send(emu, { body: textBody('three', 3) });
      emu.reset();
      await expect.poll(() => stream.events.length).toBe(6);
      expect(stream.events.slice(1).map((e) => e.type)).toEqual(['call', 'call', 'settings', 'call', 'snapshot']);
      expect(stream.events[1]!.data).toMatchObject({ call: { code: 0, MsgSeq: 2 }, delivery: { MsgSeq: 2, Random: 2, batchSize: 2 }, stats: { accepted: 2 } });
      expect(stream.events[2]!.data).toMatchObject({ call: { code: 0, MsgSeq: 2, duplicate: true }, stats: { duplicates: 1 } });
      expect(stream.events[2]!.data.delivery).toBeUndefined();
      expect(stream.events[3]!.data.faults.script).toEqual(['http502']);
      expect(stream.events[4]!.data).toMatchObject({ call: { fault: 'http502' }, stats: { faults: { http502: 1 } } });
      expect(stream.events[5]!.data).toMatchObject({ deliveries: [], stats: { requests: 0 } });
      expect(JSON.stringify(stream.events)).not.toContain(userSig().slice(0, 16));
    } finally {
      stream.close();
    }
  });

  it(`serves at most ${MAX_EVENT_CLIENTS} streams at once (503 beyond), and close() ends them`, async () => {
    const emu = await start();
    const streams = await Promise.all(Array.from({ length: MAX_EVENT_CLIENTS }, () => listen(emu.url)));
    const extra = await send(emu, { path: '/__emulator/events', query: '', method: 'GET' });
    expect(extra.status).toBe(503);
    const ended = Promise.all(streams.map((s) => new Promise((resolve) => s.res.on('close', resolve))));
    await emu.close();
    await ended;
  });
});
