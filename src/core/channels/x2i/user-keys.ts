/** User keys as one UTF-8 buffer with offsets: the layout the native stream state and Swing's sample read. */
export function packUserKeys(users: readonly string[]): { userOff: Uint32Array; userBytes: Uint8Array } {
  const enc = new TextEncoder();
  const parts = users.map((u) => enc.encode(u));
  const userOff = new Uint32Array(parts.length + 1);
  for (let k = 0; k < parts.length; k++) userOff[k + 1] = userOff[k]! + parts[k]!.length;
  const userBytes = new Uint8Array(userOff[parts.length]!);
  parts.forEach((p, k) => userBytes.set(p, userOff[k]!));
  return { userOff, userBytes };
}
