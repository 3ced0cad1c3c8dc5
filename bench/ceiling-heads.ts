// Heads as the ceiling proxy forwards them: rebuilt from llhttp's header list without hop-by-hop headers.

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Rebuilds a head without hop-by-hop headers; says whether it kept a content-length. */
export function rebuild(first: string, headers: string[], out: { contentLength: boolean; host: string }): string {
  let head = first;
  out.contentLength = false;
  out.host = '';
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const lower = name.length <= 17 ? name.toLowerCase() : name;
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'content-length') out.contentLength = true;
    else if (lower === 'host') out.host = headers[i + 1];
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  return head;
}
