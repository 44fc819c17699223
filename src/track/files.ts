// layer: behaviour (track)
// job: track_file: the number a file holds, read at start and again whenever inotify (node's fs.watch on its directory) says the file was written, moved or removed.
import fs from 'node:fs';
import path from 'node:path';
import { parseTrackFileValue } from './state.js';
import type { TrackerEvent, TrackFileSpec } from './types.js';

export interface FileDeps {
  emit(event: TrackerEvent): void;
  /** Called when the value changed. */
  changed(): void;
}

/** `init_file`: write the value when the file is missing, or (overwrite) at start but not on a reload. */
function initFile(spec: TrackFileSpec, reload: boolean): string | undefined {
  if (!spec.init) return undefined;

  try {
    const st = fs.statSync(spec.path);

    if (!spec.init.overwrite || reload) return undefined;
    if (!st.isFile()) return `${spec.path} is not a regular file; init_file not written`;
  } catch { /* missing: written below */ }
  try {
    fs.writeFileSync(spec.path, `${spec.init.value}\n`);
  } catch (error) {
    return `init_file: cannot write ${spec.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return undefined;
}

/** One track_file: its value, its directory watch. */
export class FileTracker {
  #value = 0;
  #watcher: fs.FSWatcher | undefined;
  #disabled: string | undefined;
  #pending = false;

  constructor(readonly spec: TrackFileSpec, private readonly deps: FileDeps) {}

  get value(): number { return this.#value; }
  get disabled(): string | undefined { return this.#disabled; }

  /** Write init_file if asked, read the value, watch the directory (which must exist, as keepalived requires). */
  start(reload = false): void {
    const { name, location } = this.spec;
    const at = location ? { location } : {};
    const initError = initFile(this.spec, reload);
    if (initError) this.deps.emit({ type: 'tracker-error', kind: 'file', name, message: `track_file ${name}: ${initError}`, ...at });
    const dir = path.dirname(path.resolve(this.spec.path));
    try {
      this.#watcher = fs.watch(dir, { persistent: false }, (_event, file) => {
        if (file === null || file === path.basename(this.spec.path)) this.#schedule();
      });
      this.#watcher.on('error', (error) => this.deps.emit({ type: 'tracker-error', kind: 'file', name, message: `track_file ${name}: watching ${dir} failed: ${error.message}`, error, ...at }));
    } catch (error) {
      this.#disabled = `cannot watch ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      this.deps.emit({ type: 'tracker-error', kind: 'file', name, message: `track_file ${name} disabled: ${this.#disabled}`, ...at });
      return;
    }
    this.#read(true);
  }

  /** Several events of one write become one read. */
  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      if (this.#watcher) this.#read(false);
    });
  }

  #read(initial: boolean): void {
    let text = '';
    try {
      text = fs.readFileSync(this.spec.path, 'utf8').slice(0, 127);
    } catch { /* missing or unreadable: 0, as keepalived */ }
    const value = parseTrackFileValue(text);
    const { name, location } = this.spec;
    if (value === undefined) {
      this.deps.emit({ type: 'tracker-error', kind: 'file', name, message: `track_file ${name}: ${JSON.stringify(text.trim())} in ${this.spec.path} is out of range; value ${this.#value} kept`,
        ...(location ? { location } : {}) });
      return;
    }
    if (value === this.#value && !initial) return;
    this.#value = value;
    this.deps.emit({ type: 'tracker', kind: 'file', name, state: 'ok', value, ...(location ? { location } : {}) });
    if (!initial) this.deps.changed();
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
