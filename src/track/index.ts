// layer: behaviour (track)
// job: the public face of keepalived's vrrp_script / track_file / vrrp_track_process tracking: the Trackers runner, its pure rules and its types.
export { Trackers, NO_TRACKING, type TrackersOptions, type TrackersEvents } from './runner.js';
export { initialCounter, recordResult, counterState, useTracking, instanceTracking, parseTrackFileValue, type ScriptCounter, type TrackerReading } from './state.js';
export { TRACKER_BLOCK } from './state.js';
export { processMatches, inQuorum, initialQuorum, countChanged, delayElapsed, recounted, type ProcessIdentity, type ProcessQuorum, type ProcessCause } from './process-state.js';
export { ProcessTrackers, connectorEvents, quorumText, type ProcEventOpener, type ProcEventSource, type ProcessDeps } from './processes.js';
export { decodeProcEvent, encodeListen, type ProcEvent } from './proc-events.js';
export { procfs, type ProcReader } from './procfs.js';
export { scriptRefusal, unsafePathPart, type ScriptRefusal } from './security.js';
export type { TrackScriptSpec, TrackFileSpec, TrackProcessSpec, TrackerKind, TrackerUse, TrackingConfig, ScriptState, TrackerStatus, InstanceTracking, TrackerEvent } from './types.js';
