'use strict';

// Starts the real hub (test/start_hub.py under HUB_PYTHON) and a local REST-hook receiver.

const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');

const startHub = () =>
  new Promise((resolve, reject) => {
    const python = process.env.HUB_PYTHON;
    if (!python) {
      reject(new Error('Set HUB_PYTHON to the hub venv python (make zapier-test does).'));
      return;
    }
    const repo = path.resolve(__dirname, '..', '..', '..', '..');
    const child = spawn(python, [path.join(__dirname, 'start_hub.py')], {
      cwd: repo,
      env: { ...process.env, PYTHONPATH: repo },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => reject(new Error(`hub exited (${code}): ${stderr}`)));
    readline.createInterface({ input: child.stdout }).once('line', (line) => {
      const info = JSON.parse(line);
      resolve({
        ...info,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });

// Collects POSTed JSON bodies; `next()` resolves with the next one (or one already received).
const startReceiver = () =>
  new Promise((resolve) => {
    const received = [];
    const waiting = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const item = { headers: req.headers, body: JSON.parse(body) };
        res.writeHead(200).end('ok');
        const waiter = waiting.shift();
        if (waiter) waiter(item);
        else received.push(item);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/zapier-hook`,
        next: (timeoutMs = 15000) =>
          new Promise((done, fail) => {
            if (received.length) {
              done(received.shift());
              return;
            }
            const timer = setTimeout(() => fail(new Error('no delivery arrived')), timeoutMs);
            waiting.push((item) => {
              clearTimeout(timer);
              done(item);
            });
          }),
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });

module.exports = { startHub, startReceiver };
