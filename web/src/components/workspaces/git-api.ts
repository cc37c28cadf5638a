import { api, call } from "../../api/client";
import { scope } from "./workspace-data";

/** The Git calls of one workspace (`/api/v1/workspaces/{id}/version-control/...`). */
export const gitApi = (workspaceId: string) => {
  const params = scope(workspaceId);
  return {
    status: () => call(api.GET("/api/v1/workspaces/{workspaceId}/version-control/status", { params })),
    log: (page: number) =>
      call(
        api.GET("/api/v1/workspaces/{workspaceId}/version-control/log", {
          params: { ...params, query: { page, limit: 20 } },
        }),
      ),
    branches: () => call(api.GET("/api/v1/workspaces/{workspaceId}/version-control/branches", { params })),
    commit: (message: string, paths: string[] | undefined) =>
      call(
        api.POST("/api/v1/workspaces/{workspaceId}/version-control/commit", {
          params,
          body: paths ? { message, paths, all: false } : { message, all: true },
        }),
      ),
    push: () => call(api.POST("/api/v1/workspaces/{workspaceId}/version-control/push", { params, body: {} })),
    pull: () => call(api.POST("/api/v1/workspaces/{workspaceId}/version-control/pull", { params, body: {} })),
    checkout: (branch: string, create: boolean) =>
      call(api.POST("/api/v1/workspaces/{workspaceId}/version-control/checkout", { params, body: { branch, create } })),
  };
};

export type GitApi = ReturnType<typeof gitApi>;
