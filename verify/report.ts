// One line per check for people, one JSON document for pipelines.

export type Status = "pass" | "fail" | "skip";

export interface CheckResult {
    /** Stable name, e.g. "health" (pipelines key on it). */
    name: string;
    status: Status;
    /** One line: what was seen, with its figure. */
    summary: string;
    /** On failure: what to look at. */
    lookAt?: string;
    /** Machine-readable figures (ms, days, counts). */
    figures?: Record<string, unknown>;
}

export interface Report {
    ok: boolean;
    target?: string;
    stack?: string;
    url: string;
    startedAt: string;
    durationMs: number;
    checks: CheckResult[];
}

export function isOk(checks: CheckResult[]): boolean {
    return checks.every((c) => c.status !== "fail");
}

export function formatLine(c: CheckResult): string {
    const head = `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(16)} ${c.summary}`;
    return c.status === "fail" && c.lookAt ? `${head}\n      look at: ${c.lookAt}` : head;
}

export function formatReport(r: Report): string {
    const failed = r.checks.filter((c) => c.status === "fail").length;
    const skipped = r.checks.filter((c) => c.status === "skip").length;
    return [
        `verify ${r.url}${r.target ? ` (${r.target}${r.stack ? `, stack ${r.stack}` : ""})` : ""}`,
        ...r.checks.map(formatLine),
        r.ok
            ? `OK: ${r.checks.length - skipped} checks passed${skipped ? `, ${skipped} skipped` : ""} in ${(r.durationMs / 1000).toFixed(1)} s`
            : `FAILED: ${failed} of ${r.checks.length} checks failed (${r.checks
                  .filter((c) => c.status === "fail")
                  .map((c) => c.name)
                  .join(", ")})`,
    ].join("\n");
}
