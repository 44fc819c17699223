// layer: behaviour (track)
// job: the public face of keepalived's vrrp_script / track_file tracking: the Trackers runner, its pure rules and its types.
export { Trackers, NO_TRACKING, type TrackersOptions, type TrackersEvents } from './runner.js';
export { initialCounter, recordResult, counterState, useTracking, instanceTracking, parseTrackFileValue, type ScriptCounter, type TrackerReading } from './state.js';
export { scriptRefusal, unsafePathPart, type ScriptRefusal } from './security.js';
export type { TrackScriptSpec, TrackFileSpec, TrackerUse, TrackingConfig, ScriptState, TrackerStatus, InstanceTracking, TrackerEvent } from './types.js';
