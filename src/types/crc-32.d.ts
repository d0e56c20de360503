// crc-32 ships types for its CRC-32 entry only; crc32c.js has the same API.
declare module 'crc-32/crc32c.js' {
  const crc32c: {
    buf(data: Uint8Array | number[], seed?: number): number;
    str(data: string, seed?: number): number;
  };
  export default crc32c;
}
