/**
 * The held listener: a connection made while no server is attached waits (accepted, unread) and
 * is served by the next server attached; a detached server gets nothing more.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { HeldListener } from './listener.js';

let held: HeldListener | undefined;
afterEach(async () => {
  await held?.close();
});

/** ask connects, sends `text` and resolves with the whole answer. */
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

/** server answers each connection's first chunk with `name:chunk` and ends it. */
const server = (name: string) => (socket: net.Socket) => {
  socket.once('data', (chunk: Buffer) => socket.end(`${name}:${chunk.toString()}`));
  socket.resume();
};

describe('HeldListener', () => {
  it('keeps connections while nothing is attached and hands them, bytes intact, to the next server', async () => {
    held = await HeldListener.open(0, '127.0.0.1');
    const detachFirst = held.attach(server('first'));
    expect(await ask(held.port, 'a')).toBe('first:a');
    detachFirst();
    const waiting = ask(held.port, 'b');
    for (let i = 0; i < 100 && held.waitingCount === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(held.waitingCount).toBe(1);
    held.attach(server('second'));
    expect(await waiting).toBe('second:b');
    expect(held.waitingCount).toBe(0);
  });
});
