// The world the node suites run against: tests/conformance/serve.py (fake upstreams, a hub in
// front of them, a control API), started under HUB_PYTHON; and the cases.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const conformance = path.resolve(here, '..', '..');
const repo = path.resolve(conformance, '..', '..');

// What the hub sets in the upstream request; everything else must arrive as the client sent it.
export const HUB_SET = ['model', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens'];
export const OPENAI_MODEL = 'gpt-4o-mini';

export const cases = () =>
  readdirSync(path.join(conformance, 'cases'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(conformance, 'cases', f), 'utf8')));

export const agentLoops = () =>
  JSON.parse(readFileSync(path.join(conformance, 'agent_loops.json'), 'utf8'));

export const startWorld = () =>
  new Promise((resolve, reject) => {
    const python = process.env.HUB_PYTHON;
    if (!python) {
      reject(new Error('Set HUB_PYTHON to the hub venv python (make conformance-node does).'));
      return;
    }
    const child = spawn(python, ['-m', 'tests.conformance.serve'], {
      cwd: repo,
      env: { ...process.env, PYTHONPATH: repo },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => reject(new Error(`serve.py exited (${code}): ${stderr}`)));
    readline.createInterface({ input: child.stdout }).once('line', (line) => {
      const info = JSON.parse(line);
      const control = async (method, where, body) => {
        const response = await fetch(info.control + where, {
          method,
          headers: { 'Content-Type': 'application/json' },
          body: body ? JSON.stringify(body) : undefined,
        });
        return response.json();
      };
      resolve({
        ...info,
        script: (target, ...upstreams) => control('POST', '/script', { target, upstreams }),
        received: (target) => control('GET', `/received?target=${target}`),
        lastUsage: () => control('GET', '/usage/last'),
        // Past any circuit cooldown a failing case opened (the hub runs on a fake clock).
        advance: () => control('POST', '/advance'),
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });

export const without = (obj, ...keys) =>
  Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));

// Plain JSON values (no class instances, no undefined).
export const plain = (value) => JSON.parse(JSON.stringify(value ?? null));

// What an application builds from a stream of chunk objects.
export const accumulate = (chunks) => {
  const choices = {};
  let usage = null;
  for (const chunk of chunks) {
    usage = chunk.usage ?? usage;
    (chunk.choices ?? []).forEach((choice, position) => {
      const index = choice.index ?? position;
      const acc = (choices[index] ??= { content: '', refusal: '', tool_calls: {}, finish: null });
      const delta = choice.delta ?? {};
      acc.content += delta.content ?? '';
      acc.refusal += delta.refusal ?? '';
      (delta.tool_calls ?? []).forEach((call, n) => {
        const merged = (acc.tool_calls[call.index ?? n] ??= { id: null, name: '', arguments: '' });
        merged.id = call.id ?? merged.id;
        merged.name += call.function?.name ?? '';
        merged.arguments += call.function?.arguments ?? '';
      });
      acc.finish = choice.finish_reason ?? acc.finish;
    });
  }
  return { choices, usage };
};

export const stripHubSet = (body) => without(body, ...HUB_SET);
