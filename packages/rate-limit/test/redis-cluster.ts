import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../testing/free-port';
import { killProcess, spawnRedis } from '../../../testing/redis-server';

/** A throwaway 3-master Redis Cluster on free ports (`--cluster-enabled yes` × 3 + `redis-cli --cluster create`). */
export interface TestCluster {
  readonly nodes: { host: string; port: number }[];
  /** Runs a redis-cli command on every node and returns their outputs. */
  cli(...args: string[]): string[];
  /** The hash slot of `key`. */
  keyslot(key: string): number;
  stop(): Promise<void>;
}

export async function testCluster(size = 3): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tim-broadcast-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: { host: string; port: number }[] = [];
  const stop = async () => {
    await Promise.all(children.map(killProcess));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const busPort = await freePort(); // the bus would default to port + 10,000, which may be taken or out of range
      children.push(
        await spawnRedis([
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'],
          ...['--cluster-config-file', join(dir, `nodes-${i}.conf`), '--save', '', '--appendonly', 'no', '--dir', dir],
        ]),
      );
      nodes.push({ host: '127.0.0.1', port });
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const cli = (...args: string[]) => nodes.map((n) => spawnSync('redis-cli', ['-p', String(n.port), ...args], { encoding: 'utf8' }).stdout);
    for (let i = 0; ; i++) {
      if (cli('cluster', 'info').every((info) => info.includes('cluster_state:ok'))) break;
      if (i > 200) throw new Error('the cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const keyslot = (key: string) => Number(spawnSync('redis-cli', ['-p', String(nodes[0]!.port), 'cluster', 'keyslot', key], { encoding: 'utf8' }).stdout);
    return { nodes, cli, keyslot, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
