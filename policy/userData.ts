// VM user data as the clouds hand it to cloud-init: plain text, base64, or gzip'd base64 (the
// way around EC2's 16 KB limit), and the files a #cloud-config document writes. The one decoder
// of the project: the policy pack reads resources with it, and synth (../synth/artifacts.ts)
// imports it from here, so both see the same bytes. Imports only yaml and Node built-ins, which
// the pack ships with.
import * as zlib from "zlib";
import * as YAML from "yaml";

/** The first line of every kind of user data cloud-init understands. */
export const looksLikeUserData = (text: string): boolean =>
    /^(#cloud-config|#!|Content-Type: multipart|#include|#cloud-boothook)/.test(text);

export interface DecodedUserData {
    text: string;
    /** Whether the value was base64 (possibly of gzip), as opposed to the text itself. */
    base64: boolean;
}

/** The user-data text of a value, or undefined when it is neither user data nor its base64. */
export function decodeUserData(value: unknown): DecodedUserData | undefined {
    if (typeof value !== "string" || value === "") return undefined;
    if (looksLikeUserData(value)) return { text: value, base64: false };
    const compact = value.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
    let bytes = Buffer.from(compact, "base64");
    if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
        try {
            bytes = zlib.gunzipSync(bytes);
        } catch {
            return undefined;
        }
    }
    const text = bytes.toString("utf8");
    return looksLikeUserData(text) ? { text, base64: true } : undefined;
}

export interface WrittenFile {
    path: string;
    content: string;
}

/** write_files of a #cloud-config document, contents decoded to their exact text. */
export function cloudInitFiles(text: string): WrittenFile[] {
    if (!text.startsWith("#cloud-config")) return [];
    let doc: unknown;
    try {
        doc = YAML.parse(text);
    } catch {
        return [];
    }
    const isRecord = (v: unknown): v is Record<string, unknown> =>
        typeof v === "object" && v !== null && !Array.isArray(v);
    const entries = isRecord(doc) && Array.isArray(doc.write_files) ? doc.write_files : [];
    return entries
        .filter((e: unknown): e is Record<string, unknown> => isRecord(e) && typeof e.path === "string")
        .map((e) => ({ path: String(e.path), content: decodeContent(e.content, e.encoding) }));
}

/** A write_files entry's content by its `encoding` (cloud-init's spellings); raw if undecodable. */
function decodeContent(content: unknown, encoding: unknown): string {
    const raw =
        typeof content === "string"
            ? content
            : content === undefined || content === null
              ? ""
              : String(content);
    const enc = String(encoding ?? "").toLowerCase();
    try {
        if (enc === "b64" || enc === "base64") return Buffer.from(raw, "base64").toString("utf8");
        if (/^(gz|gzip)\+(b64|base64)$/.test(enc))
            return zlib.gunzipSync(Buffer.from(raw, "base64")).toString("utf8");
    } catch {
        return raw;
    }
    return raw;
}
