import { Redis } from 'ioredis';
import { AckWindow } from './workload.js';
const c = new Redis({ host: '127.0.0.1', port: 26379, protocol: 2 });
const payload = Buffer.alloc(100, 1);
const N = 100000;
for (const [batch, depth] of [
  [1000, 16],
  [100, 64],
  [5000, 4],
  [1000, 2],
]) {
  const w = new AckWindow(depth);
  const t = performance.now();
  for (let sent = 0; sent < N; sent += batch) {
    await w.acquire();
    const p = c.pipeline();
    for (let i = 0; i < batch; i++) p.xadd('k', '*', 'v', payload);
    p.exec().then(
      () => w.release(),
      (e) => w.fail(e),
    );
  }
  await w.drain();
  console.log(batch, depth, Math.round(N / ((performance.now() - t) / 1000)));
}
// raw RESP over the socket, for a ceiling on the client side
c.disconnect();
