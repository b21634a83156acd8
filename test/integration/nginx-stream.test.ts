// deploy/nginx.conf's `stream` block with Debian's nginx (stream module from libnginx-mod-stream):
// the config the cluster test renders is valid (`nginx -t`), with and without watch ports, and
// watches' TCP connections go through to the nodes byte for byte, in both directions, spread over
// the nodes by open connections, and are not cut while a watch is quiet.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, renderNginxConf, startNginx } from '../helpers/nginx.js';

/** A stand-in hub watch listener: answers each line with `<name>:<line>`. */
function node(name: string): Promise<{ server: Server; port: number; open: () => number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
    s.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, open: () => sockets.size }),
    ),
  );
}

function watch(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function ask(s: Socket, line: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(line);
  });
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

describe('deploy/nginx.conf stream block (watches over TCP)', () => {
  it('renders to a config nginx accepts, with the stream block and without it', () => {
    for (const opts of [{}, { watchPorts: [41001, 41002, 41003], watchListenPort: 41030 }]) {
      const dir = mkdtempSync(join(tmpdir(), 'hub-nginx-t-'));
      const conf = renderNginxConf(dir, [41011, 41012, 41013], 41020, opts);
      expect(/^stream \{/m.test(conf)).toBe('watchPorts' in opts);
      writeFileSync(join(dir, 'nginx.conf'), conf);
      // Throws (with nginx's message) when the config is not valid.
      execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
    }
  });

  describe('in front of three nodes', () => {
    const nodes: Awaited<ReturnType<typeof node>>[] = [];
    let nginx: Nginx;
    beforeAll(async () => {
      for (const name of ['hub1', 'hub2', 'hub3']) nodes.push(await node(name));
      const listen = freePort();
      nginx = await startNginx([listen + 10, listen + 11, listen + 12], listen, {
        watchPorts: nodes.map((n) => n.port),
        watchListenPort: listen + 1,
      });
    });
    afterAll(() => {
      nginx?.stop();
      for (const n of nodes) n.server.close();
    });

    it('passes each watch connection to one node, both ways, and spreads connections over the nodes', async () => {
      const watches = await Promise.all(Array.from({ length: 6 }, () => watch(nginx.watchPort!)));
      const answers = await Promise.all(watches.map((w, i) => ask(w, `[3G*880000000${i}*0002*LK]`)));
      for (const [i, a] of answers.entries()) expect(a).toMatch(new RegExp(`^hub\\d:\\[3G\\*880000000${i}\\*0002\\*LK\\]$`));
      // Every later frame of a connection reaches the node that took it (one TCP stream, one node).
      for (const [i, w] of watches.entries()) {
        const again = await ask(w, 'UD');
        expect(again.split(':')[0]).toBe(answers[i]!.split(':')[0]);
      }
      // All from one address, still spread: least_conn, not a hash of the address.
      await expect.poll(() => nodes.map((n) => n.open())).toEqual([2, 2, 2]);
      for (const w of watches) w.destroy();
    });

    it('keeps a quiet connection open', async () => {
      const w = await watch(nginx.watchPort!);
      expect(await ask(w, 'a')).toMatch(/^hub\d:a$/);
      await new Promise((r) => setTimeout(r, 1500));
      expect(w.destroyed).toBe(false);
      expect(await ask(w, 'b')).toMatch(/^hub\d:b$/);
      w.destroy();
    });
  });
});
