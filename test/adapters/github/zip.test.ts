import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readZip } from "../../../src/adapters/github/zip.js";
import { crc32, makeZip } from "../../../src/dev/sandbox/zip.js";

interface Entry {
  name: string;
  content: Buffer;
  /** 0 stored, 8 deflated, anything else to test the refusal. */
  method: number;
  /** Extra field bytes in the local header (zip tools put different extras there than in the central directory). */
  localExtra?: Buffer;
  centralExtra?: Buffer;
  comment?: string;
}

/** A zip as `zip`/artifact uploads write one: local headers, data, central directory, end record, optional archive comment. */
function buildZip(entries: Entry[], archiveComment = ""): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const data = entry.method === 8 ? deflateRawSync(entry.content) : entry.content;
    const localExtra = entry.localExtra ?? Buffer.alloc(0);
    const centralExtra = entry.centralExtra ?? Buffer.alloc(0);
    const comment = Buffer.from(entry.comment ?? "", "utf8");
    const crc = crc32(entry.content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(entry.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(entry.method, 10);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(entry.content.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(centralExtra.length, 30);
    header.writeUInt16LE(comment.length, 32);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, localExtra, data);
    central.push(header, name, centralExtra, comment);
    offset += local.length + name.length + localExtra.length + data.length;
  }
  const directory = Buffer.concat(central);
  const commentBuf = Buffer.from(archiveComment, "utf8");
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(commentBuf.length, 20);
  return Buffer.concat([...parts, directory, end, commentBuf]);
}

const RESULT = JSON.stringify({ schema: "sheriff.result/v1", suite: "varlen-attention", tests: [{ name: "fwd_d128", outcome: "pass" }] });

describe("readZip", () => {
  it("reads back what the sandbox's artifact writer stores", () => {
    const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    const entries = readZip(makeZip({ "result.json": RESULT, "logs/run.log": "step 1\nstep 2\n", "trace.bin": binary }));
    expect([...entries.keys()]).toEqual(["result.json", "logs/run.log", "trace.bin"]);
    expect(entries.get("result.json")!.toString("utf8")).toBe(RESULT);
    expect(entries.get("logs/run.log")!.toString("utf8")).toBe("step 1\nstep 2\n");
    expect(entries.get("trace.bin")!.equals(binary)).toBe(true);
  });

  it("inflates deflated entries and skips extra fields and comments", () => {
    const log = Buffer.from("GPU 0: NVIDIA H200\n".repeat(500));
    const zip = buildZip(
      [
        { name: "result.json", content: Buffer.from(RESULT), method: 8, localExtra: Buffer.alloc(28, 1), comment: "the result" },
        { name: "log.txt", content: log, method: 8, centralExtra: Buffer.alloc(24, 2) },
        { name: "empty.txt", content: Buffer.alloc(0), method: 0 },
        { name: "résumé.txt", content: Buffer.from("ünïcode"), method: 0, localExtra: Buffer.alloc(9, 3) },
      ],
      "uploaded by actions/upload-artifact",
    );
    const entries = readZip(zip);
    expect([...entries.keys()]).toEqual(["result.json", "log.txt", "empty.txt", "résumé.txt"]);
    expect(entries.get("result.json")!.toString()).toBe(RESULT);
    expect(entries.get("log.txt")!.equals(log)).toBe(true);
    expect(entries.get("empty.txt")!.length).toBe(0);
    expect(entries.get("résumé.txt")!.toString()).toBe("ünïcode");
  });

  it("reads an empty archive as no entries", () => {
    expect(readZip(makeZip({})).size).toBe(0);
  });

  it("refuses what is not a zip", () => {
    expect(() => readZip(Buffer.from('{"message":"Not Found"}'))).toThrow("not a zip archive (no end of central directory)");
    expect(() => readZip(Buffer.alloc(0))).toThrow("not a zip archive");
  });

  it("refuses compression methods artifact uploads do not use, naming the entry", () => {
    const zip = buildZip([{ name: "result.json", content: Buffer.from(RESULT), method: 12 }]);
    expect(() => readZip(zip)).toThrow("zip entry result.json uses unsupported compression method 12");
  });

  it("refuses a central directory that is not where the end record says", () => {
    const zip = makeZip({ "result.json": RESULT });
    // Point the end record's directory offset at the first entry's data.
    zip.writeUInt32LE(30 + "result.json".length, zip.length - 22 + 16);
    expect(() => readZip(zip)).toThrow("corrupt zip central directory");
  });
});
