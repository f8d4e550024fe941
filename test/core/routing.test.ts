import { describe, expect, it } from "vitest";
import { AVOID_WAIT_MS, CANARY_WAIT_MS, routeGpuJob } from "../../src/core/routing.js";

const now = new Date("2026-12-04T12:00:00.000Z");
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const healthy = (host: string) => ({ host, quarantined: false });

describe("routeGpuJob", () => {
  it("runs a job anywhere when nothing restricts it", () => {
    expect(routeGpuJob({}, healthy("gpu-a"), now)).toEqual({ kind: "run" });
  });

  it("hands a job that checks a host's failures back from that host, later each time, and runs it there once it waited long enough", () => {
    const first = routeGpuJob({ avoidHosts: ["gpu-a"] }, healthy("gpu-a"), now);
    expect(first).toMatchObject({ kind: "pass", delayMs: 250, passedOver: { since: now.toISOString(), times: 1 } });
    const fifth = routeGpuJob({ avoidHosts: ["gpu-a"], passedOver: { since: ago(5000), times: 4 } }, healthy("gpu-a"), now);
    expect(fifth).toMatchObject({ kind: "pass", delayMs: 4000, passedOver: { since: ago(5000), times: 5 } });
    const many = routeGpuJob({ avoidHosts: ["gpu-a"], passedOver: { since: ago(60_000), times: 40 } }, healthy("gpu-a"), now);
    expect(many).toMatchObject({ kind: "pass", delayMs: 5_000 });
    expect(routeGpuJob({ avoidHosts: ["gpu-a"] }, healthy("gpu-b"), now)).toEqual({ kind: "run" });
    expect(routeGpuJob({ avoidHosts: ["gpu-a"], passedOver: { since: ago(AVOID_WAIT_MS), times: 30 } }, healthy("gpu-a"), now)).toEqual({
      kind: "run",
    });
  });

  it("keeps a quarantined host to its canaries, and a canary to its host until that host is gone", () => {
    expect(routeGpuJob({}, { host: "gpu-q", quarantined: true }, now)).toMatchObject({ kind: "pass", reason: "gpu-q is quarantined" });
    expect(routeGpuJob({ onlyHost: "gpu-q" }, { host: "gpu-q", quarantined: true }, now)).toEqual({ kind: "run" });
    expect(routeGpuJob({ onlyHost: "gpu-q" }, healthy("gpu-b"), now)).toMatchObject({ kind: "pass" });
    // A canary never runs elsewhere, however long it waited: its result would say nothing about its host.
    const stale = { onlyHost: "gpu-q", passedOver: { since: ago(AVOID_WAIT_MS * 2), times: 50 } };
    expect(routeGpuJob(stale, healthy("gpu-b"), now)).toMatchObject({ kind: "pass" });
    expect(routeGpuJob({ ...stale, passedOver: { since: ago(CANARY_WAIT_MS), times: 80 } }, healthy("gpu-b"), now)).toMatchObject({
      kind: "drop",
    });
  });
});
