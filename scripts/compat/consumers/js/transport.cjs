const { main } = require('./harness.cjs');
const { fetchTransport, TransportError } = require('@tim-broadcast/transport');
const { undiciTransport } = require('@tim-broadcast/transport/undici');
const scenario = require('./scenarios/transport.cjs');

main('transport', () => scenario({ fetchTransport, undiciTransport, TransportError }));
