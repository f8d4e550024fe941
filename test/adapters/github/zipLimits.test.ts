import { constants, createDeflateRaw, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readZip, readZipEntry, ZipLimitError } from "../../../src/adapters/github/zip.js";

/** Raw deflate of `copies` × 64 MiB of zeros: a full-flushed segment repeats on its own, so a 4 GiB entry is ~4 MB. */
async function zeroBomb(copies: number): Promise<Buffer> {
  const deflater = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflater.on("data", (c: Buffer) => chunks.push(c));
  deflater.write(Buffer.alloc(64 << 20));
  await new Promise<void>((resolve) => deflater.flush(constants.Z_FULL_FLUSH, () => resolve()));
  deflater.close();
  const segment = Buffer.concat(chunks);
  return Buffer.concat([...Array.from({ length: copies }, () => segment), deflateRawSync(Buffer.alloc(0))]);
}

/** A zip of deflated entries whose headers declare `declared` inflated bytes (a bomb lies). */
function zipOf(entries: { name: string; deflated: Buffer; declared: number }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(e.deflated.length, 18);
    local.writeUInt32LE(e.declared, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(e.deflated.length, 20);
    header.writeUInt32LE(e.declared, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, e.deflated);
    central.push(header, name);
    offset += 30 + name.length + e.deflated.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

const RUN = Buffer.from(JSON.stringify({ job: { sha: "a".repeat(40) }, result: {} }));
const LIMITS = { maxArchiveBytes: 32 << 20, maxEntryBytes: 64 << 20, maxTotalBytes: 64 << 20 };

describe("reading artifacts within limits", () => {
  it("refuses a 4 GiB zip bomb quickly, with bounded memory, and never inflates entries it was not asked for", async () => {
    const bomb = await zeroBomb(64);
    const zip = zipOf([
      { name: "junk.bin", deflated: bomb, declared: 1000 },
      { name: "run.json", deflated: deflateRawSync(RUN), declared: RUN.length },
      { name: "bomb.json", deflated: bomb, declared: 1000 },
    ]);
    expect(zip.length).toBeLessThan(8 << 20);
    const rss = process.memoryUsage().rss;
    let started = Date.now();
    expect(readZipEntry(zip, "run.json", LIMITS)!.equals(RUN)).toBe(true);
    expect(Date.now() - started).toBeLessThan(100);

    started = Date.now();
    expect(() => readZipEntry(zip, "bomb.json", LIMITS)).toThrow(ZipLimitError);
    expect(() => readZipEntry(zip, "bomb.json", LIMITS)).toThrow("zip entry bomb.json inflates to more than 64 MiB");
    expect(() => readZip(zip, LIMITS)).toThrow("zip entry junk.bin inflates to more than 64 MiB");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(400 << 20);
  });

  it("refuses an entry that declares more than the limit without inflating it, and an archive over its limit", () => {
    const zip = zipOf([{ name: "run.json", deflated: deflateRawSync(RUN), declared: 100 << 20 }]);
    expect(() => readZipEntry(zip, "run.json", LIMITS)).toThrow("zip entry run.json inflates to more than 64 MiB");
    expect(() => readZipEntry(Buffer.alloc((32 << 20) + 1), "run.json", LIMITS)).toThrow("zip archive is 32 MiB, over the limit of 32 MiB");
  });

  it("bounds the total of every entry read", () => {
    const big = Buffer.alloc(40 << 20, 1);
    const entry = { deflated: deflateRawSync(big), declared: big.length };
    const zip = zipOf([
      { name: "a", ...entry },
      { name: "b", ...entry },
    ]);
    expect(() => readZip(zip, LIMITS)).toThrow("zip entry b inflates to more than 24 MiB");
  });

  it("returns null for a missing entry and refuses entries pointing past the end", () => {
    const zip = zipOf([{ name: "run.json", deflated: deflateRawSync(RUN), declared: RUN.length }]);
    expect(readZipEntry(zip, "other.json", LIMITS)).toBeNull();
    const broken = Buffer.from(zip);
    broken.writeUInt32LE(1 << 30, broken.length - 22 - (46 + "run.json".length) + 20);
    expect(() => readZipEntry(broken, "run.json", LIMITS)).toThrow("corrupt zip: entry run.json ends past the end");
  });
});
