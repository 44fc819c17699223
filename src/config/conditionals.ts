// layer: config (pure)
// job: keepalived's conditional lines: `@ID text` is read only when ID is the config id, `@^ID text` only when it is not.

/** What remains of a line after its `@ID` / `@^ID` prefix: the text and where it starts in the line. */
export interface SelectedLine {
  text: string;
  /** Index in the original line where `text` begins. */
  offset: number;
}

/**
 * Applies a conditional prefix to a line that starts with `@` (leading whitespace already removed).
 * Returns the rest of the line when it is selected, or undefined when it is not (including a line
 * with nothing after the id, which keepalived drops). `configId` undefined matches no `@ID`.
 */
export function selectConditional(line: string, configId: string | undefined): SelectedLine | undefined {
  const negate = line[1] === '^';
  const idStart = negate ? 2 : 1;
  let idEnd = idStart;
  while (idEnd < line.length && line[idEnd] !== ' ' && line[idEnd] !== '\t') idEnd++;
  if (idEnd >= line.length) return undefined;
  const matches = configId !== undefined && line.slice(idStart, idEnd) === configId;
  if (matches === negate) return undefined;
  let offset = idEnd;
  while (offset < line.length && (line[offset] === ' ' || line[offset] === '\t')) offset++;
  return { text: line.slice(offset), offset };
}
