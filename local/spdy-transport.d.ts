/** The part of spdy-transport 3 (untyped CommonJS) the port-forward server uses. */
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { EventEmitter } from 'node:events';

  /** SpdyStream is one SPDY stream: a Duplex with the SYN_STREAM's headers. */
  export interface SpdyStream extends Duplex {
    readonly headers: Record<string, string>;
    respond(status: number, headers: Record<string, string>, callback?: (err?: Error) => void): void;
  }

  /** SpdyConnection is one SPDY session over a byte stream. */
  export interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    end(callback?: () => void): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  const transport: {
    connection: { create(socket: Duplex, options: { protocol: 'spdy' | 'http2'; isServer: boolean }): SpdyConnection };
  };
  export default transport;
}
