import { fetchTransport, TransportError, type Transport, type TransportResponse } from '@tim-broadcast/transport';
import { undiciTransport, type UndiciTransportOptions } from '@tim-broadcast/transport/undici';
import { assert, main, startStub } from './harness.js';

main('transport', async () => {
  const stub = await startStub((req) => ({ json: { echo: JSON.parse(req.body) as unknown, method: req.method } }));
  const options: UndiciTransportOptions = { proxy: false, connections: 2 };
  // @ts-expect-error: the declarations must reject a proxy setting of the wrong type
  void (() => undiciTransport({ proxy: 42 }));
  const transports: Transport[] = [fetchTransport(), undiciTransport(options)];
  try {
    for (const transport of transports) {
      const res: TransportResponse = await transport.send({ url: `${stub.url}/x?usersig=secret`, body: '{"n":1}', timeoutMs: 5000 });
      assert(res.status === 200, `status ${res.status}`);
      assert(res.body === '{"echo":{"n":1},"method":"POST"}', `body ${res.body}`);
      await transport.close();
    }
  } finally {
    await stub.close();
  }
  const transport = undiciTransport({ proxy: false });
  const error = await transport.send({ url: `${stub.url}/gone?usersig=secret`, body: '{}', timeoutMs: 5000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
  assert(!error.message.includes('secret'), 'the query string leaked into the error');
  const code: string | undefined = error.code;
  void code;
  await transport.close();
});
