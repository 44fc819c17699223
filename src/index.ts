// layer: public API
// job: what `import ... from 'lvskit'` offers: the objects an embedder uses, their options, results and errors; each layer's wider surface is a subpath (`lvskit/ipvs`, ...).
/**
 * The top level of lvskit: the objects an embedder uses (Balancer, the kernel clients, the runners, loadConfig and the conversions), their options, results and errors. Each layer's wider surface is a subpath.
 *
 * @module lvskit
 */

// The whole configuration run as one object (what `lvskit run` is).
export {
  Balancer, ControlError,
  type BalancerOptions, type BalancerLogger, type BalancerSpec, type BalancedService, type BalancerEvent, type BalancerStatus,
  type ReloadResult, type StopMode, type ConfigSource,
} from './daemon/index.js';

// keepalived.conf: reading it, and its conversions into the inputs of the objects below.
export {
  loadConfig, loadConfigOrThrow, parseConfigText, ConfigError, formatDiagnostic,
  type ParseOptions, type ParseResult, type Diagnostic, type SourceLocation, type Severity, type KeepalivedConfig,
} from './config/index.js';
export {
  convertConfig, convertVrrp, convertIpvs, convertHealthChecks, autobanSettings, ipvsPlanOptions,
  type ConfigConversion, type VrrpConversion, type VrrpConvertOptions, type IpvsConversion, type IpvsConvertOptions,
  type HealthCheckConversion, type HealthCheckConvertOptions, type AutobanConversion, type AutobanSettings,
} from './daemon/convert.js';

// Kernel clients.
export {
  IpvsClient, IpvsError, IpvsValidationError, plan, apply, rollback, validateServices,
  type IpvsClientOptions, type VirtualService, type ServiceKey, type ServiceSettings, type Destination, type ServiceState,
  type DestinationState, type Stats, type SyncDaemon, type Timeouts, type IpvsInfo, type Protocol, type Scheduler,
  type ForwardingMethod, type Family, type Op, type PlanOptions, type ApplyOptions, type ApplyResult,
} from './ipvs/index.js';
export {
  IpsetClient, IpsetError, IpsetBulkError,
  type IpsetClientOptions, type CreateOptions, type EntryOptions, type IpsetEntry, type IpsetMember,
} from './ipset/index.js';
export { RtnlClient, LinkWatcher, type RtnlOptions, type AddressTarget, type Link, type LinkChange, type Address, type AddressSpec } from './rtnl/index.js';

// Behaviour: VRRP, health checks, the connection table, the autoban.
export { VrrpRunner, VrrpConfigError, type VrrpRunnerOptions, type VrrpStartOptions, type VrrpStopOptions, type VrrpInstanceConfig, type VrrpSyncGroupConfig, type VrrpRunnerEvents, type InstanceStatus } from './vrrp/index.js';
export { Trackers, NO_TRACKING, type TrackersOptions, type TrackersEvents } from './track/index.js';
export {
  HealthChecks, ipvsSink, MemorySink, CheckConfigError,
  type HealthChecksOptions, type AddOptions, type ReplaceOptions, type ReplaceResult, type VirtualServerSpec, type RealServerSpec,
  type CheckSpec, type DestinationSink, type HealthCheckEvents, type HealthStatus,
} from './check/index.js';
export {
  ConnTracker, LiveConnTable, SyncReceiver, SyncCapture, scanConnections, readConnections, ConnTableUnavailableError, ConnScanAbortedError,
  type TrackerOptions, type TrackerEvents, type LiveTableOptions, type SyncReceiverOptions, type SyncCaptureOptions,
  type ScanOptions, type ConnScanResult, type ClientCount, type ReadRowsOptions, type ConnTableRow,
} from './conns/index.js';
export {
  AutobanRunner, IpsetBanSink, ProcfsCountSource, TrackerCountSource,
  type AutobanRunnerOptions, type AutobanEvents, type AutobanCounters, type BanSink, type CountSource, type BlacklistFiles,
} from './autoban/index.js';

// The error vocabulary shared by every layer.
export { ErrnoError, errnoCode, isErrnoError } from './errors.js';
export { NetlinkError } from './netlink/index.js';
