// layer: config (pure)
// job: segments and braces → a tree of nodes (words plus an optional `{ }` block) with locations; brace errors.
//      Incremental: each top-level node is handed on as soon as it is complete, so a large file is never held whole.
import type { Diagnostics, SourceLocation } from './diagnostics.js';
import { formatLocation } from './diagnostics.js';
import { tokenizeInto, tokenLocation, type Token } from './lexer.js';
import { isBrace, type Piece } from './preprocess.js';

/**
 * One keepalived "line": the words between line ends and braces, and the block that follows it, if any.
 * Its first word and the rest are kept apart: a line that is one statement is handed to its keyword
 * as it is (a `Statement`), with no copy of its words.
 */
export class ConfigNode {
  block?: ConfigBlock;

  constructor(
    /** The first word (the keyword, in a keyword block). */
    readonly keyword: Token,
    /** The words after the first. */
    readonly args: Token[],
  ) {}

  /** All the words of the line (a new array). */
  get words(): Token[] {
    const out = new Array<Token>(this.args.length + 1);
    out[0] = this.keyword;
    for (let i = 0; i < this.args.length; i++) out[i + 1] = this.args[i] as Token;
    return out;
  }
}

/** TreeParser's scratch space for a line's words (push() does not call itself). */
const scratchWords: Token[] = [];

export interface ConfigBlock {
  open: SourceLocation;
  /** Absent when the input ended first (reported). */
  close?: SourceLocation;
  nodes: ConfigNode[];
}

interface Frame {
  block: ConfigBlock;
  /** The keyword the block belongs to (for messages). */
  owner: Token | undefined;
  /** A block nested too deep or opened where none may be: read for balance, then dropped. */
  discard: boolean;
}

/**
 * Builds the tree from pieces pushed in order. A `{` belongs to the words just before it, whether on
 * the same line or the line before (as keepalived allows); a `{` with no words before it, a second
 * block for the same words, a `}` with no open block, blocks nested deeper than `maxDepth`, and
 * blocks never closed are errors. A top-level node goes to `onNode` once the next top-level node
 * starts (it might still receive a block until then) or the input ends.
 */
export class TreeParser {
  private readonly stack: Frame[] = [];
  private last: ConfigNode | undefined;
  /** The top-level node not yet handed on. */
  private pending: ConfigNode | undefined;

  constructor(private readonly diags: Diagnostics, private readonly maxDepth: number, private readonly onNode: (node: ConfigNode) => void) {}

  push(piece: Piece): void {
    if (!isBrace(piece)) {
      const count = tokenizeInto(piece, this.diags, scratchWords);
      if (count === 0) return;
      this.last = new ConfigNode(scratchWords[0] as Token, scratchWords.slice(1, count));
      const frame = this.stack[this.stack.length - 1];
      if (frame) {
        frame.block.nodes.push(this.last);
      } else {
        this.flush();
        this.pending = this.last;
      }
    } else if (piece.kind === 'open') {
      this.open(piece.location);
    } else {
      this.close(piece.location);
    }
  }

  private open(location: SourceLocation): void {
    const block: ConfigBlock = { open: location, nodes: [] };
    const last = this.last;
    const inDiscarded = this.stack[this.stack.length - 1]?.discard ?? false;
    let discard = inDiscarded;
    if (!last || last.block) {
      this.diags.error('syntax', location, last ? `a second '{' block after \`${last.keyword.text}\`; its contents are ignored`
        : `'{' without a keyword before it; its contents are ignored`);
      discard = true;
    } else if (this.stack.length >= this.maxDepth && !inDiscarded) {
      this.diags.error('limit', location, `blocks nested deeper than ${this.maxDepth} levels; this block is ignored`);
      discard = true;
    }
    if (!discard && last) last.block = block;
    this.stack.push({ block, owner: last?.keyword, discard });
    this.last = undefined;
  }

  private close(location: SourceLocation): void {
    const frame = this.stack.pop();
    if (!frame) {
      this.diags.error('unbalanced-brace', location, `'}' with no block open; ignored`);
      return;
    }
    frame.block.close = location;
    // The node that owns the block: a `{` right after this `}` would be a second block for it.
    const parent = this.stack[this.stack.length - 1];
    const owner = parent ? parent.block.nodes[parent.block.nodes.length - 1] : this.pending;
    this.last = !frame.discard && owner?.block === frame.block ? owner : undefined;
  }

  private flush(): void {
    if (this.pending) this.onNode(this.pending);
    this.pending = undefined;
  }

  /** Ends the input: reports blocks never closed and hands on the last node. */
  end(braceComments: readonly SourceLocation[] = []): void {
    for (const frame of this.stack) reportUnclosed(frame, this.diags, braceComments);
    this.stack.length = 0;
    this.flush();
  }
}

function reportUnclosed(frame: Frame, diags: Diagnostics, braceComments: readonly SourceLocation[]): void {
  const what = frame.owner ? `\`${frame.owner.text}\` block` : 'block';
  const at = frame.block.open;
  const hint = braceComments.find((c) => c.file === at.file && (c.line > at.line || (c.line === at.line && c.column > at.column)));
  diags.error('unbalanced-brace', at, `the ${what} opened here is not closed ('}' missing before the end of the configuration)`,
    hint ? [{ message: `this comment holds a brace; everything after '#' or '!' to the end of the line is not read`, location: hint }]
      : frame.owner ? [{ message: `the block belongs to \`${frame.owner.text}\` at ${formatLocation(tokenLocation(frame.owner))}`, location: tokenLocation(frame.owner) }] : undefined);
}

/** Parses a whole list of pieces into top-level nodes (for tests and small inputs). */
export function parsePieces(pieces: readonly Piece[], diags: Diagnostics, maxDepth: number, braceComments: readonly SourceLocation[] = []): ConfigNode[] {
  const nodes: ConfigNode[] = [];
  const parser = new TreeParser(diags, maxDepth, (n) => nodes.push(n));
  for (const p of pieces) parser.push(p);
  parser.end(braceComments);
  return nodes;
}
