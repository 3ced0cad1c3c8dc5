// What the data plane's admin endpoint answers to `/explain` (`portico explain --dataplane`): its own decision for a
// request, made by the code its shards run (dataplane/supervisor/explain.ts), for the CLI to compare with the
// operator's explanation.

export interface DataPlaneDecision {
  generation: number;
  /** `address:port` of the socket the request reaches; null when none. */
  socket: string | null;
  listener: string | null;
  /** The winning match as `<route key> rule <index> match <index>`; null when nothing matches. */
  winner: string | null;
  /** Set when the data plane answers without a route: 404, 421; or why no socket was found. */
  answer: string | null;
}
