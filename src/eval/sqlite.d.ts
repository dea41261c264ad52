// The parts of node-sqlite3-wasm (which ships no type declarations) that the result cache uses.
declare module 'node-sqlite3-wasm' {
  type Value = string | number | null | Uint8Array | bigint;
  interface Statement {
    get(values?: Value[]): Record<string, Value> | undefined;
    run(values?: Value[]): unknown;
    finalize(): void;
  }
  class Database {
    constructor(path: string, opts?: { readOnly?: boolean; fileMustExist?: boolean });
    exec(sql: string): void;
    run(sql: string, values?: Value[]): unknown;
    all(sql: string, values?: Value[]): Record<string, Value>[];
    get(sql: string, values?: Value[]): Record<string, Value> | undefined;
    prepare(sql: string): Statement;
    close(): void;
  }
  const mod: { Database: typeof Database };
  export default mod;
}
