// layer: behaviour (autoban)
// job: where bans go: an ipset entry with a timeout (nfnetlink, no `ipset` command), after checking the set can take them.
import { isIPv6 } from 'node:net';
import { IpsetClient, type IpsetClientOptions } from '../ipset/client.js';
import { IPSET_CMD_ADD } from '../ipset/constants.js';
import { IpsetError } from '../ipset/errors.js';

/** Puts a ban in force. */
export interface BanSink {
  /** Ban `address` for `timeoutSec` seconds (0 = no timeout). Adding an address already there refreshes it. */
  ban(address: string, timeoutSec: number): Promise<void>;
  close(): void;
}

interface TargetSet { name: string; hasTimeout: boolean }

/**
 * Bans as entries of an ipset the firewall drops (hash:ip or hash:net, created with `timeout`):
 * IPv4 clients into `set`, IPv6 clients into `set6` when given (an ipset holds one family).
 */
export class IpsetBanSink implements BanSink {
  private constructor(private readonly client: IpsetClient, private readonly sets: { inet: TargetSet; inet6?: TargetSet }, private readonly ownsClient: boolean) {}

  /** The IPv4 set's name. */
  get set(): string { return this.sets.inet.name; }

  /**
   * Open a client (in `netns`) and check the set: it must exist, and take timeouts when bans
   * have one (else the kernel would refuse every ban); IpsetError otherwise.
   */
  static async open(set: string, options: IpsetClientOptions & { banTimeoutSec: number; set6?: string; client?: IpsetClient }): Promise<IpsetBanSink> {
    const client = options.client ?? await IpsetClient.open(options);
    try {
      const check = async (name: string, family: 'inet' | 'inet6'): Promise<TargetSet> => {
        const info = await client.describe(name);
        if (info.family !== family) {
          throw new IpsetError(22, IPSET_CMD_ADD, { setName: name, kind: 'wrong-family', reason: `set ${name} is family ${info.family}; ${family === 'inet' ? 'IPv4' : 'IPv6'} bans need ${family}` });
        }
        if (options.banTimeoutSec > 0 && info.timeoutSec === undefined) {
          throw new IpsetError(22, IPSET_CMD_ADD, { setName: name, kind: 'wrong-type',
            reason: `set ${name} has no timeout support; bans need one (create it with \`timeout 0\`), or ban without a timeout` });
        }
        return { name, hasTimeout: info.timeoutSec !== undefined };
      };
      const inet = await check(set, 'inet');
      const sets = options.set6 === undefined ? { inet } : { inet, inet6: await check(options.set6, 'inet6') };
      return new IpsetBanSink(client, sets, !options.client);
    } catch (error) {
      if (!options.client) client.close();
      throw error;
    }
  }

  /** Add (or refresh) the entry; timeout 0 makes it permanent in a set with timeouts (else the set's default would apply). */
  async ban(address: string, timeoutSec: number): Promise<void> {
    const target = isIPv6(address) ? this.sets.inet6 : this.sets.inet;
    if (!target) throw new IpsetError(22, IPSET_CMD_ADD, { setName: this.sets.inet.name, entry: address, kind: 'wrong-family', reason: `no IPv6 set to ban ${address} in (set6)` });
    await this.client.add(target.name, target.hasTimeout ? { address, timeoutSec } : { address }, { exist: true });
  }

  /** Close the ipset client it opened (not one it was given). */
  close(): void {
    if (this.ownsClient) this.client.close();
  }

  /** `using sink = await IpsetBanSink.open(...)`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }
}
