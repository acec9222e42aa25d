// What `serve` tells the operator at start: the fatal line of a failed listen says what to do, and
// the console URL printed beside a generated admin token is one a browser on the machine can open
// (loopback when the service is bound to every interface). The processes themselves:
// test/lifecycle/process.test.ts (port in use) and test/cli/admin-token-cli.test.ts (the token).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleUrl, listenFailureMessage } from '../../src/server.js';

const config = { host: '0.0.0.0', port: 3000 };
const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

test('a failed listen says what to do', () => {
  assert.equal(
    listenFailureMessage(errno('EADDRINUSE'), config),
    'port 3000 is in use: set PORT to another port or stop the process listening on it',
  );
  assert.match(listenFailureMessage(errno('EACCES'), config), /^not allowed to listen on port 3000: set PORT to 1024 or above/);
  assert.match(listenFailureMessage(errno('EADDRNOTAVAIL'), { host: '10.9.9.9', port: 3000 }), /^HOST 10\.9\.9\.9 is not an address/);
  assert.equal(listenFailureMessage(new Error('something else'), config), 'cannot listen on 0.0.0.0:3000');
});

test('the console URL is that of the bound address, loopback when bound to every interface', () => {
  assert.equal(consoleUrl({ address: '0.0.0.0', family: 'IPv4', port: 8080 }, config), 'http://127.0.0.1:8080/console');
  assert.equal(consoleUrl({ address: '::', family: 'IPv6', port: 8080 }, config), 'http://localhost:8080/console');
  assert.equal(consoleUrl({ address: '127.0.0.1', family: 'IPv4', port: 41234 }, config), 'http://127.0.0.1:41234/console');
  assert.equal(consoleUrl({ address: '::1', family: 'IPv6', port: 8080 }, config), 'http://[::1]:8080/console');
  assert.equal(consoleUrl({ address: '192.0.2.7', family: 'IPv4', port: 8080 }, config), 'http://192.0.2.7:8080/console');
});
