// The gzipped payloads (EC2 user-data, Azure customData, the ECS task's *_GZ_B64 scripts) of
// every example stack's offline synth, through the programs that unpack them: GNU `gunzip`
// (the ECS config container's `base64 -d | gunzip`) and cloud-init's own Python code
// (user_data.convert_string -> util.decomp_gzip, what every datasource runs on user-data), run
// with the interpreter cloud-init itself uses. And the bytes are canonical zlib's: CPython's
// zlib module on the system's libz gives the same ones (render/gzip.ts, legacyHash).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { userDataBase64 } from "../../components/ec2";
import { customDataBase64 } from "../../components/azure-vm";
import { gzipStable } from "../../components/render/gzip";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { ensureCommands, tempDir } from "./support/system";

interface Payload {
    label: string;
    text: string;
    packed: Buffer;
}

/** Every gzipped payload a stack's synth gives, packed the way the program packs it. */
function payloadsOf(stack: string, cloud: string, dir: string): Payload[] {
    const out: Payload[] = [];
    // The IS nodes' cloud-init (the ECS container instances' user-data is plain base64).
    const packers: Partial<Record<string, (text: string) => string>> = {
        aws: userDataBase64,
        azure: customDataBase64,
    };
    const pack = packers[cloud];
    const nodes = path.join(dir, "nodes");
    if (pack && fs.existsSync(nodes))
        for (const node of fs.readdirSync(nodes).sort()) {
            const text = fs.readFileSync(path.join(nodes, node, "cloud-init.yaml"), "utf8");
            out.push({
                label: `${stack} ${node} cloud-init`,
                text,
                packed: Buffer.from(pack(text), "base64"),
            });
        }
    const ecs = path.join(dir, "ecs");
    for (const service of fs.existsSync(ecs) ? fs.readdirSync(ecs).sort() : []) {
        const def = fs.readFileSync(path.join(ecs, service, "task-definition.json"), "utf8");
        // synth writes each gzipped value as "[gzip, base64, see <file under out/<stack>>]".
        for (const m of def.matchAll(/\[gzip, base64, see ([^\]]+)\]/g)) {
            const text = fs.readFileSync(path.join(dir, m[1]), "utf8");
            out.push({ label: `${stack} ${m[1]}`, text, packed: gzipStable(text) });
        }
    }
    return out;
}

/** The Python that runs cloud-init (its script's #! line), so `import cloudinit` works. */
function cloudInitPython(): string {
    const which = spawnSync("sh", ["-c", "command -v cloud-init"], { encoding: "utf8" });
    const shebang = fs.readFileSync(which.stdout.trim(), "utf8").split("\n")[0];
    const m = /^#!\s*(\S+)/.exec(shebang);
    assert.ok(m, `cloud-init's first line: ${shebang}`);
    return m[1];
}

// For each (packed, text) pair: what cloud-init makes of the packed bytes, and what zlib packs.
const pythonCheck = `
import json, sys, zlib
from cloudinit import user_data, util
result = []
for packed_file, text_file in json.loads(sys.argv[1]):
    packed = open(packed_file, "rb").read()
    text = open(text_file, "rb").read()
    r = {}
    try:
        r["decomp_gzip"] = util.decomp_gzip(packed, quiet=False, decode=False) == text
    except util.DecompressionError as e:
        r["decomp_gzip"] = "DecompressionError: %s" % e
    # convert_string swallows a decompression error and keeps the raw bytes (quiet=True).
    r["convert_string"] = user_data.convert_string(packed).get_payload(decode=True) == text
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    r["zlib_same_bytes"] = c.compress(text) + c.flush() == packed
    r["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    result.append(r)
print(json.dumps(result))
`;

function throughPython(python: string, dir: string, payloads: Payload[]) {
    const pairs = payloads.map((p, i) => {
        const packed = path.join(dir, `${i}.gz`);
        const text = path.join(dir, `${i}.txt`);
        fs.writeFileSync(packed, p.packed);
        fs.writeFileSync(text, p.text);
        return [packed, text];
    });
    const r = spawnSync(python, ["-c", pythonCheck, JSON.stringify(pairs)], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as {
        decomp_gzip: boolean | string;
        convert_string: boolean;
        zlib_same_bytes: boolean;
        zlib: string;
    }[];
}

function gunzip(packed: Buffer) {
    return spawnSync("gunzip", ["-c"], { input: packed, maxBuffer: 64 << 20 });
}

describe("gzipped payloads through gunzip and cloud-init's decompression", function () {
    this.timeout(180_000);
    let tmp: { dir: string; cleanup: () => void };
    let python: string;
    const payloads: Payload[] = [];

    before(function () {
        ensureCommands({ "cloud-init": "cloud-init", gunzip: "gzip" });
        python = cloudInitPython();
        tmp = tempDir("gzip");
        for (const s of exampleStacks()) {
            const r = synthOnce(s.name);
            assert.equal(r.status, 0, `synth --stack ${s.name}: ${r.stderr}`);
            payloads.push(...payloadsOf(s.name, s.cloud, r.dir));
        }
    });

    after(function () {
        tmp?.cleanup();
    });

    it("finds EC2 user-data, Azure customData and the ECS task's gzipped scripts", function () {
        const labels = payloads.map((p) => p.label).join("\n");
        for (const want of [
            /^dev asg-node cloud-init$/m,
            /^azure-dev node-1 cloud-init$/m,
            /^ecs-dev .*db-init\.sh$/m,
        ])
            assert.match(labels, want);
        for (const p of payloads)
            console.log(`      ${p.label}: ${p.text.length} -> ${p.packed.length} bytes`);
    });

    it("GNU gunzip unpacks every payload to the exact text; gzip -t finds it sound", function () {
        for (const p of payloads) {
            const r = gunzip(p.packed);
            assert.equal(r.status, 0, `${p.label}: ${r.stderr}`);
            assert.ok(r.stdout.equals(Buffer.from(p.text, "utf8")), `${p.label}: gunzip gives other bytes`);
            const t = spawnSync("gzip", ["-t"], { input: p.packed });
            assert.equal(t.status, 0, `${p.label}: ${t.stderr}`);
        }
    });

    it("cloud-init's decomp_gzip and convert_string give the exact text; the bytes are canonical zlib's", function () {
        const results = throughPython(python, tmp.dir, payloads);
        payloads.forEach((p, i) => {
            assert.equal(results[i].decomp_gzip, true, p.label);
            assert.equal(results[i].convert_string, true, p.label);
            assert.equal(
                results[i].zlib_same_bytes,
                true,
                `${p.label}: zlib ${results[i].zlib} packs it otherwise`,
            );
        });
    });

    it("the checks can fail: a flipped byte in the deflate data or the CRC is refused by both", function () {
        const p = payloads.find((x) => x.label.startsWith("dev asg-node"))!;
        for (const at of [Math.floor(p.packed.length / 2), p.packed.length - 6]) {
            const bad = Buffer.from(p.packed);
            bad[at] ^= 0x55;
            const r = gunzip(bad);
            assert.notEqual(r.status, 0, `gunzip took a flipped byte at ${at}`);
            const [py] = throughPython(python, tmp.dir, [{ ...p, packed: bad }]);
            assert.match(String(py.decomp_gzip), /^DecompressionError: /, `byte ${at}: ${py.decomp_gzip}`);
            assert.equal(py.convert_string, false, `byte ${at}`);
            assert.equal(py.zlib_same_bytes, false);
        }
    });
});
