// The control API, the dashboard and its event stream answer only to this machine's names, and control POSTs must
// be JSON: a web page on another site can neither send them as "simple" requests nor reach them by DNS rebinding.
import { describe, expect, it } from 'vitest';
import { hostName, isAllowedHost } from '../src/host-check';
import { isJsonContentType } from '../src/control';
import { sample, send, start } from './helpers';

const json = { 'content-type': 'application/json' };

describe('Host check', () => {
  it.each([
    ['/', 'GET'],
    ['/__emulator/dashboard.js', 'GET'],
    ['/__emulator/events', 'GET'],
    ['/__emulator/stats', 'GET'],
    ['/__emulator/deliveries', 'GET'],
    ['/__emulator/config', 'POST'],
    ['/__emulator/faults', 'POST'],
    ['/__emulator/reset', 'POST'],
  ])('refuses %s (%s) under a foreign Host with 403, and changes nothing', async (path, method) => {
    const emu = await start();
    await send(emu, { body: sample() });
    const reply = await send(emu, { path, query: '', method, headers: { ...json, host: `rebind.attacker.example:${emu.port}` }, body: method === 'POST' ? { rate: 1 } : undefined });
    expect(reply.status).toBe(403);
    expect(reply.json.error).toContain('allowedHosts');
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.faults.rate).toBe(0);
  });

  it.each(['127.0.0.1', 'localhost', 'LOCALHOST.', 'app.localhost', '[::1]', '192.168.1.20'])('answers under Host %s', async (name) => {
    const emu = await start();
    const reply = await send(emu, { path: '/__emulator/stats', query: '', method: 'GET', headers: { host: `${name}:${emu.port}` } });
    expect(reply.status).toBe(200);
  });

  it('answers the names in allowedHosts (a leading dot for subdomains), or any with true', async () => {
    const emu = await start({ allowedHosts: ['emulator', '.dev.test'] });
    const status = async (host: string) => (await send(emu, { path: '/', query: '', method: 'GET', headers: { host } })).status;
    expect(await status('emulator:8080')).toBe(200);
    expect(await status('dev.test')).toBe(200);
    expect(await status('a.dev.test')).toBe(200);
    expect(await status('emulator.evil')).toBe(403);
    expect(await status('xdev.test')).toBe(403);
    const open = await start({ allowedHosts: true });
    expect((await send(open, { path: '/', query: '', method: 'GET', headers: { host: 'anything.example' } })).status).toBe(200);
  });

  it('answers the listening host name', async () => {
    const emu = await start({ host: 'localhost' });
    expect(isAllowedHost('localhost:1', emu.host)).toBe(true);
    expect(isAllowedHost('my-box.lan', 'my-box.lan')).toBe(true);
    expect(isAllowedHost('other.lan', 'my-box.lan')).toBe(false);
  });

  it('leaves the broadcast endpoint open to any Host (a client may use a service name; the UserSig protects it)', async () => {
    const emu = await start();
    const reply = await send(emu, { body: sample(), headers: { host: 'emulator:8080' } });
    expect(reply.json).toMatchObject({ ErrorCode: 0 });
  });

  it('parses Host headers', () => {
    expect(hostName('Example.COM.:80')).toBe('example.com');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('[::1')).toBe('');
    expect(isAllowedHost('', '127.0.0.1')).toBe(false);
    expect(isAllowedHost(undefined, '127.0.0.1')).toBe(true);
  });
});

describe('control POSTs need content-type: application/json', () => {
  it.each([
    ['no content type', {}],
    ['text/plain (a cross-site "simple" request)', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['JSON in another charset', { 'content-type': 'application/json; charset=latin1' }],
  ])('415 for %s, and nothing changes', async (_name, headers) => {
    const emu = await start();
    await send(emu, { body: sample() });
    for (const [name, body] of [
      ['faults', { rate: 1 }],
      ['config', { broadcastEnabled: false }],
      ['reset', {}],
    ] as const) {
      const reply = await send(emu, { path: `/__emulator/${name}`, query: '', headers, body });
      expect(reply.status).toBe(415);
      expect(reply.json.error).toContain('application/json');
    }
    expect(emu.faults.rate).toBe(0);
    expect(emu.config.broadcastEnabled).toBe(true);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('accepts application/json with or without charset=utf-8, in any case', () => {
    for (const value of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"']) {
      expect(isJsonContentType(value)).toBe(true);
    }
    for (const value of [undefined, '', 'text/json', 'application/jsonx', 'application/json; charset=utf-16']) expect(isJsonContentType(value)).toBe(false);
  });

  it('refuses a CORS preflight, so a cross-site page cannot send JSON either', async () => {
    const emu = await start();
    const reply = await send(emu, { path: '/__emulator/faults', query: '', method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(reply.status).toBe(405);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('dashboard assets and events over HTTP', () => {
  it('answers 405 to anything but GET/HEAD on the page and GET on the event stream', async () => {
    const emu = await start();
    expect((await send(emu, { path: '/', query: '', method: 'POST', headers: json, body: {} })).status).toBe(405);
    expect((await send(emu, { path: '/', query: '', method: 'HEAD' })).status).toBe(200);
    expect((await send(emu, { path: '/__emulator/events', query: '', method: 'POST', headers: json, body: {} })).status).toBe(405);
  });
});
