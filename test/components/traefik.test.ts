// The Traefik Helm values are written for one chart major: every key they set must be a key of
// that chart's own values.yaml (test/fixtures/traefik-<version>-values.yaml, upstream file), or
// sit under a free-form map or list the chart declares empty ({} / []). A chart bump without a
// matching fixture fails here, and so does a key the chart renamed (33.x ports.web.redirectTo ->
// 34.x ports.web.redirections.entryPoint is silently ignored by Helm).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { traefikValues } from "../../components/kubernetes/ingress";
import { traefikChart } from "../../components/kubernetes/names";

const fixture = (version: string) => path.resolve(__dirname, `../fixtures/traefik-${version}-values.yaml`);

/** Leaf paths of our values that the chart's defaults do not declare. */
function undeclared(values: unknown, defaults: unknown, at: string[] = []): string[] {
    if (values === null || typeof values !== "object" || Array.isArray(values)) return [];
    return Object.entries(values as Record<string, unknown>).flatMap(([k, v]) => {
        const where = [...at, k];
        const d = (defaults as Record<string, unknown> | null)?.[k];
        if (defaults === null || typeof defaults !== "object" || !(k in (defaults as object)))
            return [where.join(".")];
        // A map or list the chart leaves empty takes any content (e.g. service.spec, affinity).
        const freeForm =
            (Array.isArray(d) && d.length === 0) ||
            (d !== null && typeof d === "object" && Object.keys(d as object).length === 0);
        return freeForm ? [] : undeclared(v, d, where);
    });
}

describe("Traefik values keyed to the pinned chart", function () {
    it(`the pinned chart ${traefikChart.version} has its upstream values.yaml as a fixture`, function () {
        assert.ok(fs.existsSync(fixture(traefikChart.version)), `add ${fixture(traefikChart.version)}`);
    });

    it("every key we set is declared by that chart's values.yaml", function () {
        const defaults = YAML.parse(fs.readFileSync(fixture(traefikChart.version), "utf8"));
        const values = traefikValues(
            traefikChart.version,
            "traefik",
            `example.azurecr.io/library/traefik:v3.2.2@sha256:${"a".repeat(64)}`,
        );
        assert.deepStrictEqual(undeclared(values, defaults), []);
        // The check has teeth: a key the chart does not know is reported.
        assert.deepStrictEqual(
            undeclared({ ports: { web: { redirections: { entryPoint: { to: "websecure" } } } } }, defaults),
            ["ports.web.redirections"],
        );
        // The image default the chart builds its reference from, and its appVersion tag.
        assert.strictEqual(defaults.image.repository, "traefik");
        assert.deepStrictEqual(values.image, {
            registry: "example.azurecr.io",
            repository: "library/traefik",
            tag: `v3.2.2@sha256:${"a".repeat(64)}`,
        });
    });

    it("another chart major is refused until the values are rewritten for it", function () {
        assert.throws(
            () => traefikValues("34.0.0", "traefik", "docker.io/library/traefik:v3.3.0"),
            /chart 33\.x, not 34\.0\.0/,
        );
    });
});
