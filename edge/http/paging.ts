import { z } from "zod";

/** The most rows one page of a list returns: no list answers with everything a user has. */
const MAX_PAGE = 100;

/** `?limit&offset` of a capped list; a page shorter than `limit` is the last. */
export const pageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .default(MAX_PAGE)
    .describe(`Rows per page, at most ${MAX_PAGE} (the default)`),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(0)
    .describe("Rows to skip: the previous offset plus the previous limit"),
});

export type Page = z.infer<typeof pageQuery>;
