// Shared by the JS consumers (CJS and ESM): runs one scenario, exits 1 with the error if it fails, and fails a
// scenario that returned but left something (a socket, a timer) keeping the process alive.
const http = require('node:http');

exports.main = function main(name, scenario) {
  const major = process.env.COMPAT_NODE_MAJOR;
  if (major && process.versions.node.split('.')[0] !== major) {
    console.error(`${name}: expected Node ${major}, running ${process.version}`);
    process.exit(1);
  }
  Promise.resolve()
    .then(scenario)
    .then(
      () => {
        setTimeout(() => {
          console.error(`${name}: still running 5 s after the scenario finished; something it opened was not closed`);
          process.exit(1);
        }, 5000).unref();
      },
      (error) => {
        console.error(error && error.stack ? error.stack : error);
        process.exit(1);
      },
    );
};

/** A plain HTTP server on 127.0.0.1:0 that answers every POST with `reply(request)`. */
exports.startStub = function startStub(reply) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(request);
      const { status = 200, json } = reply(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
};

/** The ESM namespace and the CJS exports of a package must list the same names (one API, two builds). */
exports.sameExports = function sameExports(specifier, namespace, cjs) {
  const esm = Object.keys(namespace).filter((k) => k !== 'default' && k !== 'module.exports').sort();
  const req = Object.keys(cjs).filter((k) => k !== 'default' && k !== '__esModule').sort();
  const onlyEsm = esm.filter((k) => !req.includes(k));
  const onlyCjs = req.filter((k) => !esm.includes(k));
  if (onlyEsm.length || onlyCjs.length) {
    throw new Error(`${specifier}: ESM and CJS builds differ; only in ESM: [${onlyEsm}], only in CJS: [${onlyCjs}]`);
  }
};
