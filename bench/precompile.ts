// A plain-JavaScript copy of the program, synth and bench code in a temp dir, transpiled with
// TypeScript's transpileModule (what ts-node --transpile-only does per file on every run) and
// the repo's compiler options; other files (boot scripts) copied as they are; node_modules
// linked. Lets the benchmark tell the program's own cost from ts-node's: transpiling every
// file at start, and source-map-support rewriting each of the SDK's per-resource stack traces.
import * as fs from "fs";
import * as path from "path";
import type * as ts from "typescript";
import { repoRoot } from "./proc";

const roots = ["components", "synth", "bench"];

export function precompile(target: string): string {
    const typescript: typeof ts = require(require.resolve("typescript", { paths: [repoRoot] }));
    const parsed = typescript.getParsedCommandLineOfConfigFile(
        path.join(repoRoot, "tsconfig.json"),
        {},
        {
            ...typescript.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => {
                throw new Error(typescript.flattenDiagnosticMessageText(d.messageText, "\n"));
            },
        },
    );
    const compilerOptions: ts.CompilerOptions = {
        ...parsed?.options,
        noEmit: false,
        sourceMap: false,
        inlineSourceMap: false,
        declaration: false,
    };

    const copy = (rel: string) => {
        const src = path.join(repoRoot, rel);
        const stat = fs.statSync(src);
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(src)) copy(path.join(rel, entry));
            return;
        }
        const dest = path.join(target, rel);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
            const out = typescript.transpileModule(fs.readFileSync(src, "utf8"), {
                compilerOptions,
                fileName: src,
            });
            fs.writeFileSync(dest.replace(/\.ts$/, ".js"), out.outputText);
        } else {
            fs.copyFileSync(src, dest);
            fs.chmodSync(dest, stat.mode);
        }
    };
    fs.mkdirSync(target, { recursive: true });
    for (const root of roots) copy(root);
    for (const file of ["index.ts", "Pulumi.yaml"]) if (fs.existsSync(path.join(repoRoot, file))) copy(file);
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(target, "node_modules"), "dir");
    return target;
}
