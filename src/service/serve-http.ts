/**
 * The service's one HTTP server as a part: it listens on start (a port in
 * use or an address not of this machine is said in the operator's words)
 * and, on stop, ends every connection — an execution page's event stream
 * would otherwise hold it open — and closes.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from '../log/create-logger.ts';
import { createHttpServer, type HttpRoutes } from '../web/create-http-server.ts';
import type { ServicePart } from './service-part.ts';
import { listenError } from './start-error.ts';

export interface ServiceHttp extends ServicePart {
  server: Server;
  /** The port it listens on, once started (PORT=0 lets the system pick one). */
  port(): number;
}

export function serveHttp(routes: HttpRoutes, listen: { port: number; address: string }, logger: Logger): ServiceHttp {
  const server = createHttpServer(routes, (error, req) =>
    logger
      .child({ method: req.method, path: req.url?.split('?')[0] })
      .error(error instanceof Error ? error : { err: error }, 'Sluice could not answer a request'),
  );
  return {
    server,
    port: () => (server.address() as AddressInfo).port,
    start: () =>
      new Promise<void>((done, fail) => {
        server.once('error', (error: NodeJS.ErrnoException) => fail(listenError(error, listen.port, listen.address)));
        server.listen(listen.port, listen.address, () => done());
      }),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
