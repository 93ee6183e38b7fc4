import { createRequire } from 'node:module';
import * as transport from '@tim-broadcast/transport';
import { fetchTransport, TransportError } from '@tim-broadcast/transport';
import * as undici from '@tim-broadcast/transport/undici';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/transport.cjs';

const require = createRequire(import.meta.url);
main('transport', async () => {
  sameExports('@tim-broadcast/transport', transport, require('@tim-broadcast/transport'));
  sameExports('@tim-broadcast/transport/undici', undici, require('@tim-broadcast/transport/undici'));
  await scenario({ fetchTransport, undiciTransport: undici.undiciTransport, TransportError });
});
