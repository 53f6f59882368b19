// Preload for the benchmark's child processes (node -r bench/probe.js ...). Does nothing
// unless BENCH_PROBE_OUT names a file; then, at exit, it writes there as JSON:
//   pulumiPackages: { "@pulumi/aws": <modules loaded from it>, ... } from require.cache
//   maxRssKb:       process.resourceUsage().maxRSS (peak resident set, KB)
//   cpuMs:          process.cpuUsage() user + system (this process only, not its children), ms
//   uptimeS:        process.uptime()
// Plain JavaScript on purpose: it must not need ts-node, so the floor run pays nothing for it.
"use strict";
const out = process.env.BENCH_PROBE_OUT;
if (out) {
    process.on("exit", () => {
        const packages = {};
        for (const file of Object.keys(require.cache)) {
            // The innermost package: node_modules/@pulumi/x/node_modules/@pulumi/y/... counts as y.
            const hits = [...file.matchAll(/[\\/]node_modules[\\/](@pulumi[\\/][^\\/]+)[\\/]/g)];
            if (hits.length === 0) continue;
            const name = hits[hits.length - 1][1].replace(/\\/g, "/");
            packages[name] = (packages[name] || 0) + 1;
        }
        const cpu = process.cpuUsage();
        const report = {
            pulumiPackages: packages,
            maxRssKb: process.resourceUsage().maxRSS,
            cpuMs: (cpu.user + cpu.system) / 1000,
            uptimeS: process.uptime(),
        };
        try {
            require("fs").writeFileSync(out, JSON.stringify(report));
        } catch (e) {
            process.stderr.write(`bench probe: cannot write ${out}: ${e && e.message}\n`);
        }
    });
}
