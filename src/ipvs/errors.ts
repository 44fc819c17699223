// layer: kernel client (IPVS)
// job: kernel refusals of IPVS commands as typed errors: errno, the command, its target, the kernel's message.
import { constants } from 'node:os';
import { ErrnoError } from '../errors.js';
import { NetlinkError } from '../netlink/errors.js';
import * as K from './constants.js';

const E = constants.errno;

/** What an errno means for each IPVS command, in the words ipvsadm uses (the kernel sends IPVS no text). */
function hintFor(cmd: number, errno: number): string | undefined {
  const service = cmd === K.IPVS_CMD_NEW_SERVICE || cmd === K.IPVS_CMD_SET_SERVICE;
  const dest = cmd === K.IPVS_CMD_NEW_DEST || cmd === K.IPVS_CMD_SET_DEST || cmd === K.IPVS_CMD_DEL_DEST;
  if (errno === E.EEXIST) {
    if (cmd === K.IPVS_CMD_NEW_SERVICE) return 'service already exists';
    if (cmd === K.IPVS_CMD_NEW_DEST) return 'real server already exists';
    if (cmd === K.IPVS_CMD_NEW_DAEMON) return 'a sync daemon in this state is already running';
  }
  if (errno === E.ENOENT) {
    if (service) return 'scheduler or persistence engine not found (no such kernel module)';
    if (dest) return 'no such real server';
  }
  if (errno === E.ESRCH) {
    if (cmd === K.IPVS_CMD_DEL_DAEMON) return 'no sync daemon in this state is running';
    return 'no such service';
  }
  if (errno === E.ERANGE) return 'lower threshold above upper threshold';
  if (errno === E.EINVAL) return 'invalid request: bad address, forwarding method, or a sync daemon with mixed-family real servers';
  if (errno === E.EAFNOSUPPORT) return 'address family not supported by this kernel';
  if (errno === E.EPERM) return 'permission denied (needs CAP_NET_ADMIN)';
  return undefined;
}

/**
 * The kernel refused an IPVS command. `errno`/`code` as the kernel returned them, `syscall` the
 * command (IPVS_CMD_NEW_SERVICE...), `target` what it was about (`TCP 10.0.0.1:80 -> 10.0.1.1:80`),
 * `kernelMessage` the kernel's extended-ack text when it sent one, `hint` what the errno means
 * for this command.
 */
export class IpvsError extends ErrnoError {
  override name = 'IpvsError';
  readonly target: string;
  readonly kernelMessage?: string;
  readonly hint?: string;

  constructor(errno: number, cmd: number, target: string, kernelMessage?: string, options?: { cause?: unknown }) {
    const hint = hintFor(cmd, errno);
    const detail = [target, kernelMessage !== undefined ? `kernel: ${kernelMessage}` : undefined, hint].filter(Boolean).join('; ');
    super(errno, K.IPVS_CMD_NAMES[cmd] ?? `IPVS cmd ${cmd}`, detail);
    this.target = target;
    if (kernelMessage !== undefined) this.kernelMessage = kernelMessage;
    if (hint !== undefined) this.hint = hint;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** Turn a NetlinkError from command `cmd` into an IpvsError; other errors pass unchanged. */
export function ipvsErrorFrom(err: unknown, cmd: number, target: string): unknown {
  if (err instanceof NetlinkError) return new IpvsError(err.errno, cmd, target, err.extack?.message, { cause: err });
  return err;
}
