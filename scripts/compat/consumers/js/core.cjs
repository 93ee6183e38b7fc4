const { main } = require('./harness.cjs');
const core = require('@tim-broadcast/core');
const scenario = require('./scenarios/core.cjs');

main('core', () => scenario(core));
