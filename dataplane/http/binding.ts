// The link from an accepted connection to the routing table of its socket. Set once per connection (not per
// request); a generation swap replaces `table` on the binding, so the next request on any connection sees the new
// routes while requests already matched keep the objects they hold.

import type { SocketTable } from './tables.ts';

export const kBinding = Symbol('portico.binding');

export interface SocketBinding {
  key: string;
  table: SocketTable;
  /** The socket is being removed: answer with `Connection: close` so clients move to another listener. */
  draining: boolean;
}

export interface BoundSocket {
  [kBinding]?: SocketBinding;
}
