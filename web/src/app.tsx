import { useEffect } from "preact/hooks";
import { LocationProvider, lazy, Route, Router, useLocation } from "preact-iso";
import { Layout } from "./components/layout";
import { Account } from "./pages/account";
import { Machines } from "./pages/machines";
import { NotFound } from "./pages/not-found";
import { Register } from "./pages/register";
import { SignIn } from "./pages/sign-in";
import { currentUser } from "./state/session";

// Containers and services pages load on first visit: the service page carries uPlot.
const ContainersPage = lazy(() => import("./pages/containers/containers-page").then((m) => m.ContainersPage));
const NewContainerPage = lazy(() => import("./pages/containers/new-container-page").then((m) => m.NewContainerPage));
const ServicePage = lazy(() => import("./pages/containers/service-page").then((m) => m.ServicePage));

/** Pages anyone may see; every other route needs a signed-in user. */
const PUBLIC_PATHS = new Set(["/sign-in", "/register"]);

/** Sends a signed-out visitor to /sign-in and a signed-in one away from it. */
function Gate() {
  const { path, route } = useLocation();
  const user = currentUser.value;
  const isPublic = PUBLIC_PATHS.has(path);
  useEffect(() => {
    if (user === null && !isPublic) route("/sign-in", true);
    if (user && (isPublic || path === "/")) route("/machines", true);
  }, [user, isPublic, path, route]);
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
        <Route path="/account" component={Account} />
        <Route path="/containers" component={ContainersPage} />
        <Route path="/containers/new" component={NewContainerPage} />
        <Route path="/services/:host/:id" component={ServicePage} />
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
