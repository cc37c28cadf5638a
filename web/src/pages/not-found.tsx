/** Any path the dashboard does not know. */
export function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <a href="/machines">Go to your machines</a>.
      </p>
    </>
  );
}
