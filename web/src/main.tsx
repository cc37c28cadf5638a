import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, call } from "./api/client";

function App() {
  const [status, setStatus] = useState("…");
  useEffect(() => {
    call(api.GET("/api/v1/health")).then(
      (health) => setStatus(health.status),
      (error: Error) => setStatus(error.message),
    );
  }, []);
  return <h1>Kai: {status}</h1>;
}

const root = document.getElementById("app");
if (root) render(<App />, root);
