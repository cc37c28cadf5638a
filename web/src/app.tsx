import { useEffect } from "preact/hooks";
import { LocationProvider, lazy, Route, Router, useLocation } from "preact-iso";
import { Layout } from "./components/layout";
import { Account } from "./pages/account";
import { Machines } from "./pages/machines";
import { NotFound } from "./pages/not-found";
import { Register } from "./pages/register";
import { SignIn } from "./pages/sign-in";
import { afterSignIn } from "./state/after-sign-in";
import { currentUser } from "./state/session";

// Pages past the first load on first visit, keeping the first page's JS small.
const Webhooks = lazy(() => import("./pages/admin/webhooks").then((page) => page.Webhooks));
const Audit = lazy(() => import("./pages/admin/audit").then((page) => page.Audit));
// The log viewer (anser, windowing) loads only when a log is opened.
const ServiceLogs = lazy(() => import("./pages/logs/service-logs").then((page) => page.ServiceLogs));
const WorkspaceList = lazy(() => import("./pages/workspaces/workspace-list").then((page) => page.WorkspaceList));
const WorkspacePage = lazy(() => import("./pages/workspaces/workspace-page").then((page) => page.WorkspacePage));
const SessionsList = lazy(() => import("./pages/sessions/sessions-list").then((page) => page.SessionsList));
const SessionPage = lazy(() => import("./pages/sessions/session-page").then((page) => page.SessionPage));
const ApprovalsInbox = lazy(() => import("./pages/sessions/approvals-inbox").then((page) => page.ApprovalsInbox));
// Containers and services pages load on first visit: the service page carries uPlot.
const ContainersPage = lazy(() => import("./pages/containers/containers-page").then((m) => m.ContainersPage));
const NewContainerPage = lazy(() => import("./pages/containers/new-container-page").then((m) => m.NewContainerPage));
const ServicePage = lazy(() => import("./pages/containers/service-page").then((m) => m.ServicePage));
const HostPage = lazy(() => import("./pages/machines/host-page").then((m) => m.HostPage));
const Device = lazy(() => import("./pages/device").then((page) => page.Device));

/** Pages anyone may see; every other route needs a signed-in user. */
const PUBLIC_PATHS = new Set(["/sign-in", "/register"]);

/**
 * Sends a signed-out visitor to /sign-in, remembering where they were going (`?next=`, so the
 * link `kai-agent login` printed still leads to its code), and a signed-in one away from it.
 */
function Gate() {
  const { path, url, query, route } = useLocation();
  const user = currentUser.value;
  const isPublic = PUBLIC_PATHS.has(path);
  useEffect(() => {
    if (user === null && !isPublic) route(path === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(url)}`, true);
    if (user && (isPublic || path === "/")) route(afterSignIn(query.next, location.origin), true);
  }, [user, isPublic, path, url, query.next, route]);
  if (user === undefined) return <p class="muted">Loading…</p>;
  if (isPublic) {
    return (
      <Router>
        <Route path="/sign-in" component={SignIn} />
        <Route path="/register" component={Register} />
      </Router>
    );
  }
  if (!user) return null;
  return (
    <Layout>
      <Router>
        <Route path="/machines" component={Machines} />
        <Route path="/machines/:id" component={HostPage} />
        <Route path="/account" component={Account} />
        <Route path="/logs/:host/:id" component={ServiceLogs} />
        <Route path="/workspaces" component={WorkspaceList} />
        <Route path="/workspaces/:id/:tab?" component={WorkspacePage} />
        <Route path="/sessions" component={SessionsList} />
        <Route path="/sessions/:id" component={SessionPage} />
        <Route path="/approvals" component={ApprovalsInbox} />
        <Route path="/webhooks" component={Webhooks} />
        <Route path="/audit" component={Audit} />
        <Route path="/containers" component={ContainersPage} />
        <Route path="/containers/new" component={NewContainerPage} />
        <Route path="/services/:host/:id" component={ServicePage} />
        <Route path="/device" component={Device} />
        <Route default component={NotFound} />
      </Router>
    </Layout>
  );
}

/** The dashboard: routes (preact-iso) behind the sign-in gate. A new page: a file in pages/, a Route here. */
export function App() {
  return (
    <LocationProvider>
      <Gate />
    </LocationProvider>
  );
}
