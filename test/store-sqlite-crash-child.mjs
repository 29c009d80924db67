// Child of store-sqlite-crash.test.ts: a write storm that prints every acknowledged write, one per
// line, until it is killed. Arguments: the compiled adapter module, the database file, durability.
import process from 'node:process';
const [modulePath, path, durability] = process.argv.slice(2);
const { openSqliteStore } = await import(modulePath);
const store = await openSqliteStore({ path, durability });

const counter = await store.create('/crash/counter', { n: 0 });
process.stdout.write(`counter 0\n`);

async function creator(w) {
  for (let i = 0; ; i++) {
    const key = `/crash/w${w}/${i}`;
    await store.create(key, { w, i });
    process.stdout.write(`key ${key}\n`);
  }
}

async function incrementer() {
  let kv = counter;
  for (;;) {
    const n = kv.value.n + 1;
    kv = await store.update('/crash/counter', { n }, kv.modRevision);
    process.stdout.write(`counter ${n}\n`);
  }
}

await Promise.all([...Array.from({ length: 16 }, (_, w) => creator(w)), incrementer()]);
