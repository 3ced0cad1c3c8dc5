// The request as an authorizer sees it: what a front end hands to the authorization step (core/authorize.ts). Built
// only for a request that has a filter to run, so it costs nothing on the path without one.

import type { IncomingHttpHeaders } from 'node:http';

export interface AuthSubject {
  method: string;
  /** The request target as received (origin-form path and query). */
  target: string;
  /** The path alone (without the query), for the HTTP authorizer's request line. */
  path: string;
  query: string;
  /** Host (HTTP/1.1) or :authority (HTTP/2), as the client sent it. */
  host: string;
  scheme: 'http' | 'https';
  /** 'HTTP/1.1', 'HTTP/1.0' or 'HTTP/2'. */
  protocol: string;
  headers: IncomingHttpHeaders;
  requestId: string;
  clientAddress: string;
  clientPort: number;
  localAddress: string;
  localPort: number;
  /** Body bytes to send (`forwardBody`), or null. */
  body: Buffer | null;
  /** Content-Length of the client's request; -1 when unknown (chunked, or HTTP/2 without one). */
  size: number;
}
