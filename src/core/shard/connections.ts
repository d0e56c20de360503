/**
 * The DuckDB instances of one `recall shard` run, each with its one connection: interrupted
 * together (Ctrl-C, a failed lane), closed one by one as the lanes finish, the rest at the end.
 */

/** What this needs of a DuckDB instance (`DuckDBInstance`). */
export interface Instance<C> {
  connect(): Promise<C>;
  closeSync(): void;
}

/** What this needs of a DuckDB connection (`DuckDBConnection`). */
export interface Connection {
  interrupt(): void;
  closeSync(): void;
}

export class Connections<C extends Connection> {
  readonly #instances = new Set<Instance<C>>();
  /** Each connection's own instance: lanes open and connect concurrently, so the connections
   * come back in any order, and matching them to instances by position closed the wrong one. */
  readonly #instanceOf = new Map<C, Instance<C>>();

  /** Connect to the instance `opening` gives, and hold both. */
  async add(opening: Promise<Instance<C>>): Promise<C> {
    const db = await opening;
    this.#instances.add(db);
    const c = await db.connect();
    this.#instanceOf.set(c, db);
    return c;
  }

  interrupt(): void {
    for (const c of this.#instanceOf.keys()) c.interrupt();
  }

  /** Close `c` and its own instance (a lane whose COPY is done), while the others run on. */
  close(c: C): void {
    const db = this.#instanceOf.get(c);
    if (!db) return;
    this.#instanceOf.delete(c);
    this.#instances.delete(db);
    c.closeSync();
    db.closeSync();
  }

  /** Close every connection, then every instance (one whose connection never came included). */
  closeAll(): void {
    for (const c of this.#instanceOf.keys()) c.closeSync();
    for (const db of this.#instances) db.closeSync();
    this.#instanceOf.clear();
    this.#instances.clear();
  }
}
