// layer: test infrastructure
// job: the package's public surface as the TypeScript compiler sees it in dist/src/*.d.ts: counts exported symbols (through namespaces) and lists those without a doc comment.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One exported symbol: its dotted name from the entry (`ipvs.IpvsClient`) and whether a doc comment covers it. */
export interface PublicSymbol {
  name: string;
  documented: boolean;
}

function hasDoc(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  if (sym.getDocumentationComment(checker).length > 0) return true;
  // A @-tag alone (e.g. `/** @deprecated */`) is not documentation; a summary is.
  return false;
}

/** Every symbol exported by `dtsFile`, walking into `export * as ns` namespaces, in a stable order. */
export function publicSymbols(dtsFile: string): PublicSymbol[] {
  const program = ts.createProgram([dtsFile], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(dtsFile);
  if (!source) throw new Error(`${dtsFile}: not found by the compiler`);
  const moduleSym = checker.getSymbolAtLocation(source);
  if (!moduleSym) throw new Error(`${dtsFile}: has no module symbol (no exports?)`);
  const out: PublicSymbol[] = [];
  const walk = (mod: ts.Symbol, prefix: string, seen: Set<ts.Symbol>): void => {
    for (const exp of checker.getExportsOfModule(mod)) {
      const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const name = prefix + exp.getName();
      const isNamespace = (target.flags & ts.SymbolFlags.ValueModule) !== 0 && target.declarations?.some((d) => ts.isSourceFile(d));
      if (isNamespace) {
        out.push({ name, documented: true });
        if (!seen.has(target)) walk(target, `${name}.`, new Set([...seen, target]));
      } else {
        out.push({ name, documented: hasDoc(target, checker) });
      }
    }
  };
  walk(moduleSym, '', new Set([moduleSym]));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

// `node dist/test/helpers/api-surface.js [FILE.d.ts ...]`: prints the count of each entry (default the top level).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  for (const f of files.length ? files : ['dist/src/index.d.ts']) {
    const syms = publicSymbols(path.resolve(f));
    const undocumented = syms.filter((s) => !s.documented).length;
    console.log(`${f}: ${syms.length} exported declarations (${undocumented} without a doc comment)`);
  }
}
