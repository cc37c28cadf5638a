import { render } from "preact";
import { App } from "./app";
import { currentUser, refreshUser } from "./state/session";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App />, root);
// Who the session cookie belongs to decides the first page; when Kai cannot say, the sign-in page shows.
refreshUser().catch(() => {
  currentUser.value = null;
});
