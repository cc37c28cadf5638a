/** The chart's line colours, chosen to read on both the light and the dark background. */
export const SERIES_COLOURS = { cpu: "#2f80ed", memory: "#e8833a" } as const;
