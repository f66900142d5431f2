// Long-lived parts shared by every request, built once by buildServer.
import type { Logger } from 'pino';

export interface Services {
  logger: Logger;
}
