// Small statistics and a plain-text table printer for the benchmark's output.

export function median(xs: number[]): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function min(xs: number[]): number {
    return xs.length === 0 ? NaN : Math.min(...xs);
}

export function max(xs: number[]): number {
    return xs.length === 0 ? NaN : Math.max(...xs);
}

export const seconds = (ms: number, digits = 2) =>
    Number.isFinite(ms) ? `${(ms / 1000).toFixed(digits)} s` : "-";
export const ratio = (x: number, digits = 2) => (Number.isFinite(x) ? `${x.toFixed(digits)}x` : "-");
export const mb = (kb: number | undefined) =>
    kb !== undefined && Number.isFinite(kb) ? `${Math.round(kb / 1024)} MB` : "-";

/** Rows of cells as an aligned table with a header rule; numbers-looking cells are right-aligned. */
export function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const numeric = (c: string) => /^[-+]?[\d.]+( ?(s|x|MB|%))?$/.test(c) || c === "-";
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (numeric(c) && i > 0 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
