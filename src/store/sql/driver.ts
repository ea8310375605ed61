/**
 * The tiny surface the SQL store needs from a database client, so that one SQL implementation
 * serves both node-postgres (a server) and PGlite (PostgreSQL in WASM, embedded): a parameterised
 * `query` and a `transaction` that commits when its callback resolves and rolls back when it throws.
 * Parameters are only strings, numbers and null (JSON goes in as text and is cast with `::jsonb`),
 * so both clients serialise them alike.
 *
 * @module
 */

/** A parameter value both clients pass through unchanged. */
export type SqlParam = string | number | null;

/** The result of one statement. */
export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows inserted, updated or deleted (0 for a SELECT-less statement that touched none). */
  readonly rowCount: number;
}

/** Something that runs one statement: a connection, or a transaction on one. */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<SqlResult<R>>;
}

/** A database: statements outside a transaction, transactions, and closing. */
export interface SqlDriver extends SqlQueryable {
  /** Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * LISTENs on `channel` on a connection of its own; resolves to the function that stops. A lost
   * connection ends the subscription (notifications are wake-ups, not a delivery channel) and
   * calls `onLost`, once.
   */
  listen(channel: string, onNotify: (payload: string) => void, onLost?: () => void): Promise<() => Promise<void>>;
  /** Releases what the driver opened itself (not a pool the caller passed in). */
  close(): Promise<void>;
}
