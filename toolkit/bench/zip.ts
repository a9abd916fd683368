/**
 * A minimal ZIP writer (stored names, DEFLATE at zlib's default level 6, as Go's archive/zip writes the
 * code archives the Pulumi engine uploads): enough to measure a Lambda code archive byte for byte
 * without a zip dependency. Entries are sorted by path so the size is the same on every machine.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface ZipEntry {
    /** Path inside the archive, "/"-separated. */
    name: string;
    data: Buffer;
}

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_OF_CENTRAL_DIRECTORY = 22;

/**
 * The archive as bytes. Throws past ZIP32's limits (65,535 entries, 4 GiB) instead of writing a bad file.
 * `cache` keeps compressed entries by name, for archives that share most of their files.
 */
export function buildZip(entries: ZipEntry[], cache?: Map<string, Buffer>): Buffer {
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (sorted.length > 0xffff) throw new Error(`zip: ${sorted.length} entries exceed ZIP32's 65,535`);
    const locals: Buffer[] = [];
    const centrals: Buffer[] = [];
    let offset = 0;
    for (const entry of sorted) {
        const name = Buffer.from(entry.name, "utf8");
        let compressed = cache?.get(entry.name);
        if (!compressed) {
            compressed = zlib.deflateRawSync(entry.data, { level: 6 });
            cache?.set(entry.name, compressed);
        }
        const crc = zlib.crc32(entry.data) >>> 0;
        const local = Buffer.alloc(LOCAL_HEADER);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(20, 4); // version needed
        local.writeUInt16LE(0x0800, 6); // UTF-8 names
        local.writeUInt16LE(8, 8); // deflate
        local.writeUInt32LE(crc, 14);
        local.writeUInt32LE(compressed.length, 18);
        local.writeUInt32LE(entry.data.length, 22);
        local.writeUInt16LE(name.length, 26);
        const central = Buffer.alloc(CENTRAL_HEADER);
        central.writeUInt32LE(0x02014b50, 0);
        central.writeUInt16LE(20, 4);
        central.writeUInt16LE(20, 6);
        central.writeUInt16LE(0x0800, 8);
        central.writeUInt16LE(8, 10);
        central.writeUInt32LE(crc, 16);
        central.writeUInt32LE(compressed.length, 20);
        central.writeUInt32LE(entry.data.length, 24);
        central.writeUInt16LE(name.length, 28);
        central.writeUInt32LE(offset, 42);
        locals.push(local, name, compressed);
        centrals.push(central, name);
        offset += LOCAL_HEADER + name.length + compressed.length;
        if (offset > 0xffffffff) throw new Error("zip: archive exceeds ZIP32's 4 GiB");
    }
    const centralSize = centrals.reduce((n, b) => n + b.length, 0);
    const end = Buffer.alloc(END_OF_CENTRAL_DIRECTORY);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(sorted.length, 8);
    end.writeUInt16LE(sorted.length, 10);
    end.writeUInt32LE(centralSize, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, ...centrals, end]);
}

/**
 * Every regular file under `dir`, as archive entries under `prefix`. Symbolic links are followed once
 * (as the engine's archiver reads file contents); a cycle or more than `maxFiles` files is an error.
 */
export function entriesOfDirectory(dir: string, prefix: string, maxFiles = 60_000): ZipEntry[] {
    const out: ZipEntry[] = [];
    const seen = new Set<string>();
    const walk = (at: string, name: string) => {
        const real = fs.realpathSync(at);
        const stat = fs.statSync(real);
        if (stat.isDirectory()) {
            if (seen.has(real)) return; // a symlink cycle
            seen.add(real);
            for (const child of fs.readdirSync(real).sort()) walk(path.join(real, child), `${name}/${child}`);
            return;
        }
        if (!stat.isFile()) return;
        if (out.length === maxFiles) throw new Error(`zip: more than ${maxFiles} files under ${dir}`);
        out.push({ name, data: fs.readFileSync(real) });
    };
    walk(dir, prefix);
    return out;
}
