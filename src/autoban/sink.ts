// layer: behaviour (autoban)
// job: where bans go: an ipset entry with a timeout (nfnetlink, no `ipset` command), after checking the set can take them.
import { IpsetClient, type IpsetClientOptions } from '../ipset/client.js';
import { IPSET_CMD_ADD } from '../ipset/constants.js';
import { IpsetError } from '../ipset/errors.js';

/** Puts a ban in force. */
export interface BanSink {
  /** Ban `address` for `timeoutSec` seconds (0 = no timeout). Adding an address already there refreshes it. */
  ban(address: string, timeoutSec: number): Promise<void>;
  close(): void;
}

/** Bans as entries of an ipset the firewall drops (hash:ip or hash:net, created with `timeout`). */
export class IpsetBanSink implements BanSink {
  private constructor(private readonly client: IpsetClient, readonly set: string, private readonly ownsClient: boolean,
    /** The set takes per-entry timeouts. */ readonly setHasTimeout: boolean) {}

  /**
   * Open a client (in `netns`) and check the set: it must exist, and take timeouts when bans
   * have one (else the kernel would refuse every ban); IpsetError otherwise.
   */
  static async open(set: string, options: IpsetClientOptions & { banTimeoutSec: number; client?: IpsetClient }): Promise<IpsetBanSink> {
    const client = options.client ?? await IpsetClient.open(options);
    let hasTimeout: boolean;
    try {
      const info = await client.describe(set);
      hasTimeout = info.timeoutSec !== undefined;
      if (options.banTimeoutSec > 0 && info.timeoutSec === undefined) {
        throw new IpsetError(22, IPSET_CMD_ADD, { setName: set, kind: 'wrong-type',
          reason: `set ${set} has no timeout support; bans need one (create it with \`timeout 0\`), or ban without a timeout` });
      }
    } catch (error) {
      if (!options.client) client.close();
      throw error;
    }
    return new IpsetBanSink(client, set, !options.client, hasTimeout);
  }

  /** Add (or refresh) the entry; timeout 0 makes it permanent in a set with timeouts (else the set's default would apply). */
  async ban(address: string, timeoutSec: number): Promise<void> {
    await this.client.add(this.set, this.setHasTimeout ? { address, timeoutSec } : { address }, { exist: true });
  }

  close(): void {
    if (this.ownsClient) this.client.close();
  }
}
