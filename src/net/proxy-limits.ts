/**
 * What one sandbox may make cordon's proxy hold. The proxy runs in cordon's
 * own process, outside the sandbox's --memory and --pids limits, so every
 * resource a sandbox can make it spend has a bound here, not a hope.
 */

/**
 * Requests a client may pipeline behind the one being served. Each is
 * served only after the previous answer is complete, so a flood of
 * pipelined requests cannot open a flood of upstream connections; a client
 * that queues more than this is cut off. (Browsers and HTTP libraries
 * pipeline little or not at all.) Each waiting request holds its parsed
 * headers (up to 16 KiB): 500 intercepted tunnels with 16 waiting each
 * took cordon past 360 MB in an attack pass; with 4, well under 256 MB.
 */
export const MAX_WAITING_REQUESTS = 4;

/** Time for an upstream TCP connection, and again for its TLS handshake. */
export const UPSTREAM_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Time a sandboxed client has to finish its TLS handshake with cordon in an intercepted tunnel. */
export const CLIENT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * An upstream exchange may sit this long with no byte moving either way,
 * waiting for an answer or inside one, before it is dropped. Generous: a
 * slow API may think for a minute before its first byte.
 */
export const UPSTREAM_IDLE_TIMEOUT_MS = 120_000;

/**
 * How long close() waits for listeners and sessions to finish on their own
 * before it destroys every socket that is left: `--timeout` bounds cordon's
 * own exit only if this does.
 */
export const CLOSE_DEADLINE_MS = 1_000;

/**
 * After one side of a tunnel has gone, the other side gets this long to
 * flush what it was given, then it is destroyed: a peer that stops reading
 * must not keep a descriptor open after the connection it served is gone.
 */
export const FLUSH_GRACE_MS = 2_000;

/**
 * Intercepted exchanges (request and answer through cordon's TLS) in
 * progress at once, per proxy; more wait their turn, unread. While data
 * moves each holds about half a MiB of buffers (two TLS connections, the
 * parser, the swap), so this, not the number of connections, bounds the
 * proxy's memory. The cost: a sandbox holding 64 answers that never end
 * (event streams) makes its own 65th request wait.
 */
export const MAX_ACTIVE_EXCHANGES = 64;

/**
 * Intercepted request bodies up to this size are read whole, so the request
 * goes upstream with an exact Content-Length (some APIs refuse chunked
 * uploads); larger ones are streamed.
 */
export const WHOLE_BODY_MAX_BYTES = 64 * 1024;

/**
 * All intercepted bodies held whole at once, per proxy. When it is spent,
 * bodies stream instead: under a flood a small upload loses its exact
 * length, never cordon its memory.
 */
export const WHOLE_BODIES_BUDGET_BYTES = 8 * 1024 * 1024;
