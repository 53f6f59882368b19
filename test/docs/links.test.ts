// The README and docs/ link only to files inside the repository (a link to ../shared or a web
// page leaves the reader stranded in a clone), and the generated configuration table matches
// components/config/keys.ts.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigKey, configKeys } from "../../components/config/keys";
import { renderPage, renderTable } from "../../tools/config-reference";

const root = path.join(__dirname, "..", "..");
const pages = [
    "README.md",
    ...fs.readdirSync(path.join(root, "docs")).map((f) => path.join("docs", f)),
].filter((f) => f.endsWith(".md"));

describe("docs", function () {
    for (const page of pages) {
        it(`${page}: every link points to a file inside the repository`, function () {
            const text = fs.readFileSync(path.join(root, page), "utf8");
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                assert.ok(!/^[a-z]+:/i.test(target), `${page}: ${target} leaves the repository`);
                const file = path.resolve(root, path.dirname(page), target.split("#")[0]);
                assert.ok(file.startsWith(root + path.sep), `${page}: ${target} leaves the repository`);
                assert.ok(fs.existsSync(file), `${page}: ${target} does not exist`);
            }
        });
    }

    it("README.md is a short front door (<= 200 lines)", function () {
        const lines = fs.readFileSync(path.join(root, "README.md"), "utf8").split("\n").length;
        assert.ok(lines <= 200, `README.md has ${lines} lines`);
    });

    it("docs/configuration.md's table is generated from components/config/keys.ts", function () {
        const current = fs.readFileSync(path.join(root, "docs", "configuration.md"), "utf8");
        const wanted = renderPage(current, renderTable(configKeys as Record<string, ConfigKey>));
        assert.equal(current, wanted, "run npm run docs:config");
    });
});
