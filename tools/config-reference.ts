// npm run docs:config [-- --check]
//
// Writes the configuration reference table of docs/configuration.md from
// components/config/keys.ts, the one home of every key's type, default and description.
// With --check it writes nothing and exits 1 when the page is out of date (npm run lint runs
// it, so the table cannot drift from the code).
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "node:util";
import { ConfigKey, configKeys } from "../components/config/keys";

const page = path.join(__dirname, "..", "docs", "configuration.md");
const begin = "<!-- BEGIN GENERATED: npm run docs:config -->";
const end = "<!-- END GENERATED -->";

/** A Markdown table cell: pipes escaped, no line breaks. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

export function renderTable(keys: Record<string, ConfigKey>): string {
    const rows = Object.entries(keys).map(([name, key]) => {
        const type = key.secret ? "secret" : key.kind;
        return `| \`${name}\` | ${type} | ${cell(key.defaultText)} | ${cell(key.description)} |`;
    });
    return ["| key | type | default | description |", "|---|---|---|---|", ...rows].join("\n");
}

export function renderPage(current: string, table: string): string {
    const from = current.indexOf(begin);
    const to = current.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${page} lacks the markers ${begin} ... ${end}`);
    return `${current.slice(0, from + begin.length)}\n${table}\n${current.slice(to)}`;
}

function main(): number {
    const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
    const current = fs.readFileSync(page, "utf8");
    const wanted = renderPage(current, renderTable(configKeys as Record<string, ConfigKey>));
    if (values.check) {
        if (wanted === current) return 0;
        console.error(
            `docs/configuration.md is out of date with components/config/keys.ts: run npm run docs:config`,
        );
        return 1;
    }
    if (wanted !== current) fs.writeFileSync(page, wanted);
    return 0;
}

if (require.main === module) process.exit(main());
