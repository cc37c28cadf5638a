/** What every workspace tab receives: the workspace to scope calls to and the page's query (deep links). */
export interface TabProps {
  workspaceId: string;
  query: Record<string, string>;
}
