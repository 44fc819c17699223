// layer: kernel client (IPVS connections)
// job: typed errors of the connection scanners: no connection table (no IPVS), an aborted scan.
import { ErrnoError } from '../errors.js';

/**
 * The connection table cannot be read because it does not exist: the kernel (or the network
 * namespace) has no IPVS loaded, or the given file is missing. Carries the errno of the open.
 */
export class ConnTableUnavailableError extends ErrnoError {
  override name = 'ConnTableUnavailableError';

  /** `given`: the caller named `file` (a saved table), so its absence says nothing about IPVS. */
  constructor(errno: number, syscall: string, readonly file: string, readonly netns: string | undefined, readonly given = false) {
    super(errno, syscall, given ? `${file}: no such file`
      : netns === undefined
        ? `${file}: no IPVS connection table here (is the ip_vs module loaded?)`
        : `${file} in network namespace ${netns}: no IPVS connection table there (is the ip_vs module loaded?)`);
  }
}

/** A scan stopped by its AbortSignal. */
export class ConnScanAbortedError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';

  constructor(readonly file: string, readonly rowsRead: number) {
    super(`scan of ${file} aborted after ${rowsRead} rows`);
  }
}
