// Reads the server name (SNI) out of a TLS ClientHello without terminating TLS, for TLS passthrough and for
// choosing between the listeners that share a TLS port. Every length is checked against the bytes present: the
// input comes from anyone who can connect.

/** A ClientHello larger than this is refused (real ones are a few hundred bytes; post-quantum ones up to ~2 KiB). */
export const MAX_CLIENT_HELLO = 16 * 1024;

export type HelloResult =
  | { state: 'incomplete' } // need more bytes
  | { state: 'not-tls' } // the bytes are not a TLS handshake
  | { state: 'ok'; serverName: string | null };

export function parseClientHello(data: Buffer): HelloResult {
  // TLS record header: type 22 (handshake), version 3.x, length.
  if (data.length < 5) return data.length > 0 && data[0] !== 22 ? { state: 'not-tls' } : { state: 'incomplete' };
  if (data[0] !== 22 || data[1] !== 3) return { state: 'not-tls' };
  const recordLength = data.readUInt16BE(3);
  if (recordLength < 4 || recordLength > MAX_CLIENT_HELLO) return { state: 'not-tls' };
  // The ClientHello may span several records; this parser reads the first record, which in practice always holds
  // the extensions of a hello up to ~16 KiB. A hello cut across records is treated as having no SNI.
  if (data.length < 5 + recordLength) return { state: 'incomplete' };
  const hello = data.subarray(5, 5 + recordLength);
  if (hello[0] !== 1) return { state: 'not-tls' }; // handshake type client_hello
  const helloLength = hello.readUIntBE(1, 3);
  const end = Math.min(hello.length, 4 + helloLength);
  let p = 4 + 2 + 32; // version, random
  if (p + 1 > end) return { state: 'ok', serverName: null };
  p += 1 + hello[p]; // session id
  if (p + 2 > end) return { state: 'ok', serverName: null };
  p += 2 + hello.readUInt16BE(p); // cipher suites
  if (p + 1 > end) return { state: 'ok', serverName: null };
  p += 1 + hello[p]; // compression methods
  if (p + 2 > end) return { state: 'ok', serverName: null };
  const extensionsEnd = Math.min(end, p + 2 + hello.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extensionsEnd) {
    const type = hello.readUInt16BE(p);
    const length = hello.readUInt16BE(p + 2);
    p += 4;
    if (p + length > extensionsEnd) break;
    if (type === 0 && length >= 5) {
      // server_name: list length, then entries of (type, length, name); type 0 is host_name.
      let q = p + 2;
      const listEnd = Math.min(p + length, q + hello.readUInt16BE(p));
      while (q + 3 <= listEnd) {
        const nameType = hello[q];
        const nameLength = hello.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLength > listEnd) break;
        if (nameType === 0) {
          const name = hello.toString('ascii', q, q + nameLength).toLowerCase();
          return { state: 'ok', serverName: /^[a-z0-9.-]{1,253}$/.test(name) ? name : null };
        }
        q += nameLength;
      }
    }
    p += length;
  }
  return { state: 'ok', serverName: null };
}
