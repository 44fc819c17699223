// layer: shared (all layers)
// job: the one error vocabulary of lvskit: errno-carrying errors from syscalls and the kernel.
/**
 * The error vocabulary shared by every layer: errno-carrying errors from syscalls and the kernel.
 *
 * @module lvskit/errors
 */
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// Where Linux has two names for one value, use the one the kernel's own headers and tools print.
for (const name of ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'] as const) {
  const value = (constants.errno as Record<string, number>)[name];
  if (value !== undefined) errnoNames.set(value, name);
}

/** The symbolic name of a positive errno value, e.g. 17 → `EEXIST`; `E<n>` when unknown. */
export function errnoCode(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/**
 * An error that carries a positive kernel errno, its symbolic `code` and the `syscall`
 * (or kernel operation) that failed. The native addon throws errors of this shape; kernel
 * clients throw subclasses of it.
 */
export class ErrnoError extends Error {
  override name = 'ErrnoError';
  /** Positive errno, as in errno.h (note: Node's own system errors use negative values). */
  readonly errno: number;
  /** Symbolic errno, e.g. `ENOENT`. */
  readonly code: string;
  /** The syscall or kernel operation that failed, e.g. `setns`, `sendmsg`, `RTM_NEWADDR`. */
  readonly syscall: string;

  constructor(errno: number, syscall: string, detail?: string) {
    const code = errnoCode(errno);
    super(`${syscall} failed: ${code}${detail ? ` (${detail})` : ''}`);
    this.errno = Math.abs(errno);
    this.code = code;
    this.syscall = syscall;
  }
}

/** True for any error carrying a numeric errno and a string code (native or ours). */
export function isErrnoError(err: unknown): err is Error & { errno: number; code: string; syscall?: string } {
  return err instanceof Error && typeof (err as { errno?: unknown }).errno === 'number'
    && typeof (err as { code?: unknown }).code === 'string';
}
