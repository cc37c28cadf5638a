import { afterAll, expect } from "vitest";
import { unboundedStatements } from "./query-plan-check";
import { startCapture } from "./sql-capture";

/*
 * Every worker test file doubles as a probe of the edge's queries: whatever D1 statements its
 * requests made, each must find its rows through an index. A full scan of a table that grows
 * with users, hosts, events or deliveries costs more with every row, and fails here, naming
 * the statement and the line of edge/ that issued it.
 */
startCapture();

afterAll(async () => {
  expect(await unboundedStatements(), "D1 statements that scan a whole table: add an index or narrow them").toEqual([]);
});
