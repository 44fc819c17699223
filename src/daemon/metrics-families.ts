// layer: daemon (composition)
// job: the metric families of a balancer, by where their values come from: read at each scrape (gauges, and the kernel's own counters), kept from events, or summed from VRRP counters that restart with an instance.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Labelled<L extends string> = readonly L[];

function makers(registry: Registry) {
  return {
    gauge: <L extends string>(name: string, help: string, labelNames: Labelled<L> = []): Gauge<L> =>
      new Gauge({ name, help, labelNames, registers: [registry] }),
    counter: <L extends string>(name: string, help: string, labelNames: Labelled<L> = []): Counter<L> =>
      new Counter({ name, help, labelNames, registers: [registry] }),
    histogram: <L extends string>(name: string, help: string, buckets: number[], labelNames: Labelled<L> = []): Histogram<L> =>
      new Histogram({ name, help, labelNames, buckets, registers: [registry] }),
  };
}

const SR = ['service', 'real_server'] as const;

/**
 * Reset before each scrape and filled from status() and the netlink counters: a series whose
 * object is gone (an instance, a service, a real server) leaves the scrape with it. The IPVS and
 * netlink counters are the kernel's and the clients' own totals, set as they are read.
 */
export function scrapedFamilies(registry: Registry) {
  const { gauge, counter } = makers(registry);
  return {
    startTime: gauge('lvskit_start_time_seconds', 'When the balancer started running (Unix time)'),
    vrrpState: gauge('lvskit_vrrp_instance_state', 'VRRP instance state: 1 for the state the instance is in, 0 for the others', ['instance', 'state']),
    vrrpPriority: gauge('lvskit_vrrp_instance_priority', 'VRRP instance priority now (configured, adjusted by tracking)', ['instance']),
    vrrpVips: gauge('lvskit_vrrp_instance_vips', 'Virtual addresses configured on the instance', ['instance']),
    servicePresent: gauge('lvskit_service_present', 'The declared IPVS service is in the kernel table (1) or not (0)', ['service']),
    serviceQuorumUp: gauge('lvskit_service_quorum_up', 'The service has its quorum of healthy real servers', ['service']),
    rsUp: gauge('lvskit_real_server_up', 'Real server health from its checks: 1 UP, 0 DOWN', SR),
    rsWeight: gauge('lvskit_real_server_weight', 'Real server weight in the kernel\'s IPVS table', SR),
    rsActive: gauge('lvskit_real_server_active_connections', 'Active connections of the real server (IPVS)', SR),
    rsInactive: gauge('lvskit_real_server_inactive_connections', 'Inactive connections of the real server (IPVS)', SR),
    svcConns: counter('lvskit_ipvs_service_connections_total', 'Connections the kernel scheduled for the service (IPVS stats)', ['service']),
    svcPktsIn: counter('lvskit_ipvs_service_incoming_packets_total', 'Packets from clients to the service (IPVS stats)', ['service']),
    svcPktsOut: counter('lvskit_ipvs_service_outgoing_packets_total', 'Packets from the real servers back through the balancer (IPVS stats; 0 with DR and TUN)', ['service']),
    svcBytesIn: counter('lvskit_ipvs_service_incoming_bytes_total', 'Bytes from clients to the service (IPVS stats)', ['service']),
    svcBytesOut: counter('lvskit_ipvs_service_outgoing_bytes_total', 'Bytes from the real servers back through the balancer (IPVS stats; 0 with DR and TUN)', ['service']),
    rsConns: counter('lvskit_ipvs_real_server_connections_total', 'Connections the kernel scheduled to the real server (IPVS stats)', SR),
    rsPktsIn: counter('lvskit_ipvs_real_server_incoming_packets_total', 'Packets forwarded to the real server (IPVS stats)', SR),
    rsPktsOut: counter('lvskit_ipvs_real_server_outgoing_packets_total', 'Packets from the real server back through the balancer (IPVS stats)', SR),
    rsBytesIn: counter('lvskit_ipvs_real_server_incoming_bytes_total', 'Bytes forwarded to the real server (IPVS stats)', SR),
    rsBytesOut: counter('lvskit_ipvs_real_server_outgoing_bytes_total', 'Bytes from the real server back through the balancer (IPVS stats)', SR),
    autobanBanned: gauge('lvskit_autoban_banned', 'Bans in force in the autoban\'s ipset (absent: the autoban is off)', ['set']),
    autobanTracked: gauge('lvskit_autoban_tracked_connections', 'Connections the sync-stream tracker holds (absent: off, or procfs as the source)', ['set']),
    autobanCandidates: gauge('lvskit_autoban_candidates', 'Clients over the threshold in the last full round (banned, whitelisted, rate-limited or already banned)', ['set']),
    netlinkRequests: counter('lvskit_netlink_requests_total', 'Netlink requests sent, by kernel client (ipvs, ipset)', ['client']),
    netlinkErrors: counter('lvskit_netlink_errors_total', 'Netlink requests that failed, by client and kind: refused (the kernel answered an errno), timeout; malformed: datagrams that did not decode', ['client', 'kind']),
    netlinkEnobufs: counter('lvskit_netlink_enobufs_total', 'Receive buffer overruns (ENOBUFS), by client (ipvs, ipset; rtnl-links: the VRRP side\'s link watcher, which then reads the links again): replies or notifications were lost, requests in flight failed', ['client']),
    netlinkDumpRetries: counter('lvskit_netlink_dump_retries_total', 'Dumps sent again because the kernel\'s table changed during them (NLM_F_DUMP_INTR)', ['client']),
  };
}

/** Counted from the balancer's events since the metrics were made. */
export function eventFamilies(registry: Registry) {
  const { gauge, counter, histogram } = makers(registry);
  return {
    transitions: counter('lvskit_vrrp_transitions_total', 'VRRP state transitions, by instance and the state entered', ['instance', 'to']),
    drops: counter('lvskit_vrrp_dropped_total', 'Received VRRP datagrams dropped, by interface and reason (RFC 3768/5798 §7.1 checks)', ['interface', 'reason']),
    checkResults: counter('lvskit_check_results_total', 'Health-check attempts by result: success, or the failure\'s reason', ['result']),
    checkFailures: counter('lvskit_check_failures_total', 'Failed health-check attempts by service, real server and reason (a shared check counts for each real server it serves)', [...SR, 'reason']),
    checksOverdue: counter('lvskit_checks_overdue_total', 'Times a health check did not finish in time (hung or starved)'),
    checkDuration: histogram('lvskit_check_duration_seconds', 'Health-check attempt duration', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    reloads: counter('lvskit_reloads_total', 'Configuration reloads by outcome (failure: refused, nothing changed)', ['outcome']),
    reloadsCoalesced: counter('lvskit_reloads_coalesced_total', 'Reload requests (SIGHUP, lvskit reload) answered by a reload already waiting its turn instead of one of their own'),
    driftRepairs: counter('lvskit_ipvs_drift_repairs_total', 'Declared IPVS services put back by the drift check: recreated (deleted behind lvskit\'s back), edited (settings changed by hand)', ['kind']),
    lastReload: gauge('lvskit_reload_last_duration_seconds', 'How long the last successful reload took (0: none yet)'),
    bans: counter('lvskit_autoban_bans_total', 'Bans the autoban put in force (dry runs not counted)'),
    autobanDecisions: counter('lvskit_autoban_decisions_total', 'Autoban policy decisions: ban, would-ban (dry run), whitelisted, rate-limited, expired', ['decision']),
    autobanRounds: counter('lvskit_autoban_rounds_total', 'Autoban rounds: full (every client over the threshold) or crossing (one client, reported by the tracker as it crossed)', ['kind']),
    autobanErrors: counter('lvskit_autoban_errors_total', 'Autoban failures (the source, the ipset, static_blacklist)'),
    autobanScan: histogram('lvskit_autoban_scan_duration_seconds', 'How long the count source took to answer a full round (the procfs scan, or the tracker)',
      [0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], ['source']),
    autobanLatency: histogram('lvskit_autoban_ban_latency_seconds', 'From the source\'s report (a full round\'s answer, or the tracker\'s crossing) to the round\'s bans in force',
      [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], ['trigger']),
    syncInterfaceUp: gauge('lvskit_sync_daemon_interface_up', 'The IPVS sync daemon\'s interface is up and running (1) or not (0): while it is down no connection is synced to the peer', ['interface']),
    syncInterfaceDown: counter('lvskit_sync_daemon_interface_down_total', 'Times the IPVS sync daemon\'s interface went down', ['interface']),
    syncDaemonRestarts: counter('lvskit_sync_daemon_restarts_total', 'Times the sync daemon was started again when its interface came back (the kernel no longer ran it)', ['interface']),
    clockSteps: counter('lvskit_wall_clock_steps_total', 'Times the wall clock was stepped (NTP, date -s), by direction; timers run on the monotonic clock', ['direction']),
    statusErrors: counter('lvskit_status_errors_total', 'Scrapes whose status read failed (the gauges were left out)'),
  };
}

/** The VRRP thread's per-instance counters, kept monotonic here (an instance a reload replaces starts again from 0). */
export function vrrpFamilies(registry: Registry) {
  const { counter } = makers(registry);
  const i = ['instance'] as const;
  return {
    advertsSent: counter('lvskit_vrrp_adverts_sent_total', 'VRRP adverts sent by the instance', i),
    advertsReceived: counter('lvskit_vrrp_adverts_received_total', 'VRRP adverts received and accepted by the instance', i),
    priorityZeroSent: counter('lvskit_vrrp_priority_zero_sent_total', 'Adverts with priority 0 sent (this balancer gave up MASTER)', i),
    priorityZeroReceived: counter('lvskit_vrrp_priority_zero_received_total', 'Adverts with priority 0 received (the master gave up)', i),
    becameMaster: counter('lvskit_vrrp_became_master_total', 'Times the instance became MASTER', i),
    releasedMaster: counter('lvskit_vrrp_released_master_total', 'Times the instance left MASTER', i),
  };
}

export type VrrpCounterName = keyof ReturnType<typeof vrrpFamilies>;
