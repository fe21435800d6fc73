/**
 * The SQLite store's schedules (host side): `StoreTx.schedules` over the `schedules` table (one
 * JSON record per schedule, keyed by its id, which also orders `list`). Statements are prepared
 * once per connection. `wrap` is the transaction's own guard: it refuses a write in a read-only
 * transaction and turns a driver error into a StoreError naming the file.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { DejaError } from '../../errors';
import type { ScheduleRecord, ScheduleStore } from '../store';

type Guard = <A extends unknown[], R>(name: string, f: (...args: A) => R) => (...args: A) => Promise<Awaited<R>>;

const statements = new WeakMap<BetterSqlite3.Database, ReturnType<typeof prepare>>();

function prepare(db: BetterSqlite3.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    get: p('SELECT record FROM schedules WHERE schedule_id = ?').pluck(),
    insert: p('INSERT INTO schedules (schedule_id, record) VALUES (?, ?)'),
    update: p('UPDATE schedules SET record = ? WHERE schedule_id = ?'),
    delete: p('DELETE FROM schedules WHERE schedule_id = ?'),
    list: p('SELECT record FROM schedules ORDER BY schedule_id LIMIT ?').pluck(),
    listAfter: p('SELECT record FROM schedules WHERE schedule_id > ? ORDER BY schedule_id LIMIT ?').pluck(),
  };
}

export function sqliteSchedules(db: BetterSqlite3.Database, live: Guard, write: Guard): ScheduleStore {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  const st = s;
  const parse = (text: unknown) => JSON.parse(text as string) as ScheduleRecord;
  return {
    get: live('schedules.get', (scheduleId: string) => {
      const text = st.get.get(scheduleId);
      return text === undefined ? undefined : parse(text);
    }),
    insert: write('schedules.insert', (schedule: ScheduleRecord) => {
      if (st.get.get(schedule.scheduleId) !== undefined) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: schedule ${schedule.scheduleId} exists`);
      st.insert.run(schedule.scheduleId, JSON.stringify(schedule));
    }),
    update: write('schedules.update', (schedule: ScheduleRecord) => {
      const { changes } = st.update.run(JSON.stringify(schedule), schedule.scheduleId);
      if (changes === 0) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: no schedule ${schedule.scheduleId} to update`);
    }),
    delete: write('schedules.delete', (scheduleId: string) => void st.delete.run(scheduleId)),
    list: live('schedules.list', (options: { limit: number; afterScheduleId?: string }) => {
      const rows = (options.afterScheduleId === undefined ? st.list.all(options.limit) : st.listAfter.all(options.afterScheduleId, options.limit)) as string[];
      return rows.map(parse);
    }),
  };
}
