import { suitesTouchedBy } from "../plan.js";
import type { SheriffConfig } from "../../model/config.js";

/** The grid's filters as the URL gives them (already validated). */
export interface GridFilters {
  branch: string;
  before?: number;
  limit: number;
  suite?: string;
  author?: string;
  path?: string;
}

/**
 * Which commits a filtered page reads: a suite filter keeps commits touching that suite; a path
 * filter keeps commits touching a suite whose globs cover the path (commits record the suites
 * their files touch, not the files), per the config at the branch head.
 */
export function commitSelection(
  filters: GridFilters,
  config: Pick<SheriffConfig, "suites"> | null,
): { suites?: string[]; author?: string; unknownPath?: boolean } {
  const author = filters.author ? { author: filters.author } : {};
  if (filters.path) {
    const covering = config ? suitesTouchedBy([filters.path], config) : [];
    const suites = filters.suite ? covering.filter((s) => s === filters.suite) : covering;
    return { ...author, suites, ...(covering.length === 0 ? { unknownPath: true } : {}) };
  }
  return { ...author, ...(filters.suite ? { suites: [filters.suite] } : {}) };
}

/** The query string of a grid page with these filters (and a paging position). */
export function gridQuery(filters: Partial<GridFilters>): string {
  const params = new URLSearchParams();
  for (const name of ["branch", "suite", "author", "path", "before", "limit"] as const) {
    const value = filters[name];
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
