import { inflateRawSync } from "node:zlib";

/**
 * Reads entries of a zip archive (GitHub Actions artifacts are zips). Stored and deflated
 * entries only, which is what artifact uploads produce; anything else is an error. Artifacts
 * come from workflow runs, so every size is bounded: the archive, each inflated entry and
 * their total, and an entry is inflated only when asked for.
 */

export interface ZipLimits {
  /** Bytes of the archive itself. */
  maxArchiveBytes: number;
  /** Inflated bytes of one entry. */
  maxEntryBytes: number;
  /** Inflated bytes of all entries read. */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxArchiveBytes: 64 << 20, maxEntryBytes: 64 << 20, maxTotalBytes: 128 << 20 };

export class ZipLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipLimitError";
  }
}

interface CentralEntry {
  name: string;
  method: number;
  compressed: number;
  /** As the archive declares it: a bomb may lie, so inflation is bounded on its own. */
  declaredSize: number;
  local: number;
}

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(bytes < 1 << 20 ? 2 : 0)} MiB`;
}

function directory(buffer: Buffer, limits: ZipLimits): CentralEntry[] {
  if (buffer.length > limits.maxArchiveBytes) {
    throw new ZipLimitError(`zip archive is ${mib(buffer.length)}, over the limit of ${mib(limits.maxArchiveBytes)}`);
  }
  const EOCD = 0x06054b50;
  let end = -1;
  for (let i = buffer.length - 22; i >= Math.max(0, buffer.length - 65557); i--) {
    if (buffer.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = buffer.readUInt16LE(end + 10);
  let offset = buffer.readUInt32LE(end + 16);
  const entries: CentralEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (offset + 46 > buffer.length || buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const nameLength = buffer.readUInt16LE(offset + 28);
    entries.push({
      method: buffer.readUInt16LE(offset + 10),
      compressed: buffer.readUInt32LE(offset + 20),
      declaredSize: buffer.readUInt32LE(offset + 24),
      local: buffer.readUInt32LE(offset + 42),
      name: buffer.toString("utf8", offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + buffer.readUInt16LE(offset + 30) + buffer.readUInt16LE(offset + 32);
  }
  return entries;
}

function inflateEntry(buffer: Buffer, entry: CentralEntry, maxBytes: number): Buffer {
  const tooBig = () => new ZipLimitError(`zip entry ${entry.name} inflates to more than ${mib(maxBytes)}`);
  if (entry.local + 30 > buffer.length) throw new Error(`corrupt zip: entry ${entry.name} starts past the end`);
  const dataStart = entry.local + 30 + buffer.readUInt16LE(entry.local + 26) + buffer.readUInt16LE(entry.local + 28);
  if (dataStart + entry.compressed > buffer.length) throw new Error(`corrupt zip: entry ${entry.name} ends past the end`);
  const data = buffer.subarray(dataStart, dataStart + entry.compressed);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new Error(`zip entry ${entry.name} uses unsupported compression method ${entry.method}`);
  }
  if (entry.declaredSize > maxBytes) throw tooBig();
  if (entry.method === 0) {
    if (data.length > maxBytes) throw tooBig();
    return Buffer.from(data);
  }
  try {
    // zlib stops as soon as the output passes the bound: memory stays at the bound, not the bomb's size.
    return inflateRawSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooBig();
    throw err;
  }
}

/** The inflated entry `name`, or null when the archive has none; no other entry is inflated. */
export function readZipEntry(buffer: Buffer, name: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Buffer | null {
  const entry = directory(buffer, limits).find((e) => e.name === name);
  return entry ? inflateEntry(buffer, entry, Math.min(limits.maxEntryBytes, limits.maxTotalBytes)) : null;
}

/** Every entry, inflated, within the limits per entry and in total. */
export function readZip(buffer: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let total = 0;
  for (const entry of directory(buffer, limits)) {
    const data = inflateEntry(buffer, entry, Math.min(limits.maxEntryBytes, limits.maxTotalBytes - total));
    total += data.length;
    entries.set(entry.name, data);
  }
  return entries;
}
