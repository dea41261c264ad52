/** The name every file of shard i starts with: shard-00012. */
export function shardName(i: number): string {
  return `shard-${String(i).padStart(5, '0')}`;
}
