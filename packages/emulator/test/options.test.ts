import { Agent, request } from 'node:http';
import { ValidationError } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions } from '../src/index';
import { APP, query, sample, send, start } from './helpers';

async function optionError(options: unknown): Promise<ValidationError> {
  try {
    const emu = await startEmulator(options as EmulatorOptions);
    await emu.close();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected startEmulator to reject');
}

describe('startEmulator options', () => {
  it.each([
    [{ sdkAppId: undefined }, 'sdkAppId'],
    [{ sdkAppId: '1400000000' }, 'sdkAppId'],
    [{ sdkAppId: 0 }, 'sdkAppId'],
    [{ secretKey: '' }, 'secretKey'],
    [{ secretKey: 42 }, 'secretKey'],
    [{ admin: '' }, 'admin'],
    [{ admin: 'x'.repeat(33) }, 'admin'],
    [{ port: 70_000 }, 'port'],
    [{ port: -1 }, 'port'],
    [{ host: '' }, 'host'],
    [{ ratePerSecond: 0 }, 'ratePerSecond'],
    [{ ratePerSecond: 1.5 }, 'ratePerSecond'],
    [{ broadcastEnabled: 'no' }, 'broadcastEnabled'],
    [{ clock: { now: 5 } }, 'clock'],
    [{ maxDeliveries: 0 }, 'maxDeliveries'],
    [{ onCall: 'log' }, 'onCall'],
    [{ faults: { rate: 3 } }, 'faults.rate'],
  ])('rejects %o naming %s', async (patch, field) => {
    const err = await optionError({ ...APP, ...patch });
    expect(err.issues.map((i) => i.path.join('.'))).toEqual([field]);
    expect(err.message).toContain(field);
  });

  it('rejects a misspelt option and a missing options object', async () => {
    expect((await optionError({ ...APP, secret: 'x' })).message).toContain('secret');
    expect((await optionError(undefined)).message).toContain('options');
  });

  it.each([
    ['secret', 'secretKey'],
    ['ratePerSec', 'ratePerSecond'],
    ['ratemodel', 'rateModel'],
    ['allowedHost', 'allowedHosts'],
    ['maxDelivery', 'maxDeliveries'],
  ])('names the closest known option for an unknown %s (%s)', async (typo, known) => {
    const err = await optionError({ ...APP, [typo]: 1 });
    expect(err.issues).toEqual([{ path: [typo], message: expect.stringContaining(`did you mean '${known}'?`) }]);
    expect(err.message).toContain(`${typo}: unknown option (did you mean '${known}'?)`);
  });

  it('names the closest key inside faults too, and reports every issue at once', async () => {
    const err = await optionError({ ...APP, faults: { rat: 0.5, seed: -1 }, admin: '', colck: {} });
    expect(err.issues.map((i) => i.path.join('.')).sort()).toEqual(['admin', 'colck', 'faults.rat', 'faults.seed']);
    expect(err.message).toContain("faults.rat: unknown option (did you mean 'rate'?)");
    expect(err.message).toContain("colck: unknown option (did you mean 'clock'?)");
  });

  it('refuses an unknown key in setConfig, setFaults and the control API, naming the closest one', async () => {
    const emu = await start();
    expect(() => emu.setConfig({ ratePerSecnd: 2 } as never)).toThrow("ratePerSecnd: unknown option (did you mean 'ratePerSecond'?)");
    expect(() => emu.setFaults({ kind: ['reset'] } as never)).toThrow("faults.kind: unknown option (did you mean 'kinds'?)");
    const reply = await send(emu, { path: '/__emulator/config', query: '', headers: { 'content-type': 'application/json' }, body: { broadcastEnable: false } });
    expect(reply.status).toBe(400);
    expect(reply.json.issues).toEqual([{ path: ['broadcastEnable'], message: expect.stringContaining("did you mean 'broadcastEnabled'?") }]);
    expect(emu.config.broadcastEnabled).toBe(true);
  });

  it.each([
    [{ rateModel: 'strict' }, 'rateModel'],
    [{ allowedHosts: 'localhost' }, 'allowedHosts'],
    [{ allowedHosts: [''] }, 'allowedHosts.0'],
    [{ allowedHosts: false }, 'allowedHosts'],
  ])('rejects %o naming %s', async (patch, field) => {
    const err = await optionError({ ...APP, ...patch });
    expect(err.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });

  it('never echoes the secret key in a validation error', async () => {
    const err = await optionError({ ...APP, secretKey: ['a-very-secret-value'], admin: '' });
    expect(err.message).not.toContain('a-very-secret-value');
  });

  it('listens on 127.0.0.1 by default and reports its URL and port', async () => {
    const emu = await start();
    expect(emu.host).toBe('127.0.0.1');
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(emu.port).toBeGreaterThan(0);
  });

  it('rejects when the port is taken', async () => {
    const emu = await start();
    await expect(startEmulator({ ...APP, port: emu.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('close() drops idle keep-alive connections and is idempotent', async () => {
    const emu = await startEmulator({ ...APP });
    const agent = new Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${emu.url}/v4/group_open_http_svc/send_broadcast_msg?${query()}`, { method: 'POST', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(JSON.stringify(sample()));
      });
      expect(status).toBe(200);
      await expect.poll(() => Object.values(agent.freeSockets).flat().length).toBe(1);
      const closing = emu.close();
      expect(emu.close()).toBe(closing);
      await closing;
      await expect.poll(() => Object.values(agent.freeSockets).flat().length).toBe(0);
    } finally {
      agent.destroy();
    }
  });
});
