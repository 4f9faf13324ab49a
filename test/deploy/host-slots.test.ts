import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecSession, HostRef } from '../../src/executor/executor.ts';
import { HostSlots, concurrencyLimit, type SlotHolder } from '../../src/deploy/host-slots.ts';

/** Sessions that record when they open and close, and how many are open at once. */
function fakeHosts() {
  const events: string[] = [];
  let open = 0;
  let peak = 0;
  const openSession = async (host: HostRef): Promise<ExecSession> => {
    await Promise.resolve();
    open++;
    peak = Math.max(peak, open);
    events.push(`open ${host.name}`);
    return {
      host,
      workspace: `/tmp/${host.name}`,
      run: () => Promise.reject(new Error('not here')),
      upload: () => Promise.resolve(),
      download: () => Promise.resolve(),
      close: async () => {
        await Promise.resolve();
        open--;
        events.push(`close ${host.name}`);
      },
    };
  };
  const holders = (n: number): SlotHolder[] =>
    Array.from({ length: n }, (_, i) => ({ host: { name: `h${i + 1}`, address: '127.0.0.1' } }));
  return { events, openSession, holders, peak: () => peak, open: () => open };
}

describe('HostSlots', () => {
  test('ten hosts through three places: never more than three open, every host served, all closed at the end', async () => {
    const fake = fakeHosts();
    const slots = new HostSlots(3, fake.openSession);
    const served: string[] = [];
    await Promise.all(
      fake.holders(10).map((h) =>
        slots.use(h, async (session) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          served.push(session.host.name);
        }),
      ),
    );
    assert.equal(fake.peak(), 3);
    assert.equal(served.length, 10);
    await slots.closeAll();
    assert.equal(fake.open(), 0);
  });

  test('a host used again keeps its session; a new host takes the place left unused longest, once it is closed', async () => {
    const fake = fakeHosts();
    const slots = new HostSlots(2, fake.openSession);
    const [a, b, c] = fake.holders(3) as [SlotHolder, SlotHolder, SlotHolder];
    await slots.use(a, async () => {});
    await slots.use(b, async () => {});
    await slots.use(a, async () => {});
    await slots.use(c, async () => {});
    assert.deepEqual(fake.events, ['open h1', 'open h2', 'close h2', 'open h3']);
    await slots.closeAll();
  });

  test('a host that cannot be connected to frees its place for the next', async () => {
    const fake = fakeHosts();
    const slots = new HostSlots(1, (host) =>
      host.name === 'h1' ? Promise.reject(new Error('connection refused')) : fake.openSession(host),
    );
    const [a, b] = fake.holders(2) as [SlotHolder, SlotHolder];
    await assert.rejects(
      slots.use(a, async () => {}),
      /connection refused/,
    );
    await slots.use(b, async () => {});
    assert.deepEqual(fake.events, ['open h2']);
    await slots.closeAll();
  });

  test('a limit below 1 or not whole is refused', () => {
    const fake = fakeHosts();
    assert.throws(() => new HostSlots(0, fake.openSession), /whole number ≥ 1/);
    assert.throws(() => new HostSlots(1.5, fake.openSession), /whole number ≥ 1/);
  });
});

describe('concurrencyLimit', () => {
  test('runs at most the limit at once, and every call', async () => {
    const limit = concurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 3));
          running--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(done, [0, 1, 2, 3, 4, 5, 6]);
  });
});
